using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Model;

/// <summary>
/// Geometry of an Audio Spectrogram Transformer: width, depth, heads, classes, and the input/patch layout.
/// Input is [T = TargetLength, F = MelBins]; frequency is the patch grid's height, time its width (as AST).
/// <paramref name="Pooling"/>: what the head reads (absent from a checkpoint's head at its default).
/// </summary>
public sealed record AstConfig(int EmbedDim, int Depth, int Heads, int NumClasses, int MelBins = 128,
    int TargetLength = 1024, int PatchF = 16, int PatchT = 16, int FStride = 10, int TStride = 10,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] AstPooling Pooling = AstPooling.Cls)
{
    /// <summary>Patch rows along frequency: (MelBins − PatchF) / FStride + 1 (conv output size, floor).</summary>
    public int FDim => (MelBins - PatchF) / FStride + 1;

    /// <summary>Patch columns along time: (TargetLength − PatchT) / TStride + 1.</summary>
    public int TDim => (TargetLength - PatchT) / TStride + 1;

    public int NumPatches => FDim * TDim;

    /// <summary>Tokens per clip seen by the transformer: cls + dist + patches.</summary>
    public int NumTokens => NumPatches + 2;

    public override string ToString() => Describe(classes: true);

    /// <summary>"AST (embed …, …)": with the class count, or without it for a model that has no classifier (SSAST pretraining).</summary>
    public string Describe(bool classes) =>
        $"AST (embed {EmbedDim}, depth {Depth}, heads {Heads}, {MelBins} mel × {TargetLength} frames, patches {PatchF}×{PatchT} " +
        $"stride {FStride}/{TStride}{(classes ? $", {NumClasses} classes" : "")}{(classes && Pooling == AstPooling.MeanTokens ? ", mean-tokens pooling" : "")})";

    public static AstConfig Tiny(int numClasses) => new(192, 12, 3, numClasses);
    public static AstConfig Small(int numClasses) => new(384, 12, 6, numClasses);
    public static AstConfig Base(int numClasses) => new(768, 12, 12, numClasses);

    /// <summary>Throws ArgumentException naming the first invalid value.</summary>
    public AstConfig Validate()
    {
        Require(EmbedDim > 0, nameof(EmbedDim), EmbedDim);
        Require(Depth > 0, nameof(Depth), Depth);
        Require(Heads > 0 && EmbedDim % Heads == 0, nameof(Heads), Heads, $"must divide EmbedDim {EmbedDim}");
        Require(NumClasses > 0, nameof(NumClasses), NumClasses);
        Require(PatchF > 0 && PatchF <= MelBins, nameof(PatchF), PatchF, $"must be in 1..MelBins ({MelBins})");
        Require(PatchT > 0 && PatchT <= TargetLength, nameof(PatchT), PatchT, $"must be in 1..TargetLength ({TargetLength})");
        Require(FStride > 0, nameof(FStride), FStride);
        Require(TStride > 0, nameof(TStride), TStride);
        return this;
    }

    private static void Require(bool ok, string name, int value, string why = "must be positive")
    {
        if (!ok) throw new ArgumentException($"AstConfig.{name} = {value}: {why}", name);
    }
}
