namespace ActorTraining.Compute.Model;

/// <summary>
/// Geometry of an HTS-AT (RetroCirce/HTS-Audio-Transformer, model/htsat.py): a Swin transformer over the log-mel
/// spectrogram folded into an image, with the token-semantic head. The input [T = <paramref name="TargetLength"/>,
/// F = <paramref name="MelBins"/>] is cut into <paramref name="FreqRatio"/> consecutive time chunks stacked along
/// frequency (the reference's reshape_wav2img: 1024 × 64 → 256 × 256), split into <paramref name="PatchSize"/>-high,
/// <paramref name="PatchT"/>-wide patches (stride the same), then stages of <paramref name="Depths"/> Swin blocks with
/// <paramref name="Heads"/> heads, windows of <paramref name="Window"/> (shifted by half on odd blocks), a patch merging
/// between stages halving both axes and doubling the width from <paramref name="EmbedDim"/>.
/// <para>Unlike the reference, which interpolates any input up to its fixed image, the image, the stages' resolutions and
/// the shift masks follow the input: a phase compressed in time (fewer frames, or wider time patches) has fewer tokens at
/// every stage. Every learned parameter keeps its shape — none depends on the input; the relative-position tables depend
/// on the window. A stage no larger than a window along one axis attends within windows of that size, unshifted (the
/// reference's rule, min(resolution) ≤ window), reading the centre of its (2·Window − 1)² table.</para>
/// </summary>
public sealed record HtsatConfig(int NumClasses, int MelBins = 64, int TargetLength = 1024, int EmbedDim = 96,
    IReadOnlyList<int>? Depths = null, IReadOnlyList<int>? Heads = null, int Window = 8, int FreqRatio = 4, int PatchSize = 4,
    int PatchT = 4)
{
    public static readonly IReadOnlyList<int> ReferenceDepths = [2, 2, 6, 2];
    public static readonly IReadOnlyList<int> ReferenceHeads = [4, 8, 16, 32];

    public IReadOnlyList<int> StageDepths => Depths ?? ReferenceDepths;
    public IReadOnlyList<int> StageHeads => Heads ?? ReferenceHeads;
    public int Stages => StageDepths.Count;

    /// <summary>Width of stage <paramref name="stage"/>: EmbedDim · 2^stage.</summary>
    public int DimOf(int stage) => EmbedDim << stage;

    /// <summary>Width of the last stage (the reference's num_features).</summary>
    public int NumFeatures => DimOf(Stages - 1);

    /// <summary>The folded image: FreqRatio·MelBins high, TargetLength / FreqRatio wide.</summary>
    public int ImageHeight => FreqRatio * MelBins;
    public int ImageWidth => TargetLength / FreqRatio;

    /// <summary>Patch grid of stage <paramref name="stage"/>: (height, width) halved at each merging.</summary>
    public (int Height, int Width) ResolutionOf(int stage) => (ImageHeight / PatchSize >> stage, ImageWidth / PatchT >> stage);

    /// <summary>Tokens per clip at the first stage (what a phase's compression reduces).</summary>
    public int NumPatches => ResolutionOf(0).Height * ResolutionOf(0).Width;

    /// <summary>The window of stage <paramref name="stage"/> and its blocks' shift: the reference's rule.</summary>
    public (int Window, int Shift) WindowOf(int stage)
    {
        var (h, w) = ResolutionOf(stage);
        int smaller = Math.Min(h, w);
        return smaller <= Window ? (smaller, 0) : (Window, Window / 2);
    }

    /// <summary>Height of the token-semantic convolution's kernel: the last stage's rows per time chunk.</summary>
    public int HeadKernelHeight => ResolutionOf(Stages - 1).Height / FreqRatio;

    /// <summary>Throws ArgumentException naming the first value that makes the geometry impossible.</summary>
    public HtsatConfig Validate()
    {
        Require(NumClasses > 0, nameof(NumClasses), $"{NumClasses}: must be positive");
        Require(EmbedDim > 0, nameof(EmbedDim), $"{EmbedDim}: must be positive");
        Require(Stages > 0 && StageHeads.Count == Stages, nameof(Heads), $"[{string.Join(", ", StageHeads)}]: one per stage of depths [{string.Join(", ", StageDepths)}]");
        for (int s = 0; s < Stages; s++)
        {
            Require(StageDepths[s] > 0, nameof(Depths), $"[{string.Join(", ", StageDepths)}]: every stage needs a block");
            Require(StageHeads[s] > 0 && DimOf(s) % StageHeads[s] == 0, nameof(Heads),
                $"[{string.Join(", ", StageHeads)}]: stage {s + 1}'s {StageHeads[s]} heads do not divide its width {DimOf(s)}");
        }
        Require(Window > 0, nameof(Window), $"{Window}: must be positive");
        Require(PatchSize > 0 && PatchT > 0, nameof(PatchSize), $"{PatchSize}×{PatchT}: must be positive");
        Require(MelBins > 0, nameof(MelBins), $"{MelBins}: must be positive");
        Require(FreqRatio > 0 && TargetLength % FreqRatio == 0, nameof(TargetLength), $"{TargetLength}: must be a multiple of the fold ({FreqRatio} time chunks)");
        int merged = 1 << (Stages - 1);
        Require(ImageHeight % (PatchSize * merged) == 0, nameof(MelBins),
            $"{MelBins}: {FreqRatio} × mel bins ({ImageHeight}) must be a multiple of the patch height × 2^{Stages - 1} mergings ({PatchSize * merged})");
        Require(ImageWidth % (PatchT * merged) == 0, nameof(TargetLength),
            $"{TargetLength}: frames / {FreqRatio} ({ImageWidth}) must be a multiple of the patch width × 2^{Stages - 1} mergings ({PatchT * merged}), i.e. frames a multiple of {FreqRatio * PatchT * merged}");
        Require(ResolutionOf(Stages - 1).Height % FreqRatio == 0, nameof(MelBins),
            $"{MelBins}: the last stage's {ResolutionOf(Stages - 1).Height} rows must split into the {FreqRatio} time chunks");
        for (int s = 0; s < Stages; s++)
        {
            var (h, w) = ResolutionOf(s);
            var (window, _) = WindowOf(s);
            Require(h % window == 0 && w % window == 0, nameof(TargetLength),
                $"{TargetLength}: stage {s + 1}'s {h} × {w} patches are not a whole number of {window} × {window} windows");
        }
        return this;
    }

    static void Require(bool ok, string name, string why)
    {
        if (!ok) throw new ArgumentException($"HTS-AT {Readable(name)} {why}", name);
    }

    static string Readable(string name) => name switch
    {
        nameof(NumClasses) => "classes",
        nameof(MelBins) => "mel bins",
        nameof(TargetLength) => "frames",
        nameof(EmbedDim) => "embed dim",
        _ => name.ToLowerInvariant(),
    };

    /// <summary>An <see cref="ArgumentException"/>'s sentence without the parameter note .NET appends.</summary>
    public static string Sentence(ArgumentException e) => e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;

    public override string ToString() =>
        $"HTS-AT (embed {EmbedDim}, depths {string.Join("/", StageDepths)}, heads {string.Join("/", StageHeads)}, window {Window}, " +
        $"{MelBins} mel × {TargetLength} frames folded {FreqRatio}×, patches {PatchSize}×{PatchT}, {NumClasses} classes)";

    // Depths and Heads compare by value: two configs of the same geometry are equal (a checkpoint's against a model's).
    public bool Equals(HtsatConfig? other) => other is not null && NumClasses == other.NumClasses && MelBins == other.MelBins
        && TargetLength == other.TargetLength && EmbedDim == other.EmbedDim && StageDepths.SequenceEqual(other.StageDepths)
        && StageHeads.SequenceEqual(other.StageHeads) && Window == other.Window && FreqRatio == other.FreqRatio
        && PatchSize == other.PatchSize && PatchT == other.PatchT;

    public override int GetHashCode() => HashCode.Combine(NumClasses, MelBins, TargetLength, EmbedDim, string.Join(",", StageDepths),
        string.Join(",", StageHeads), HashCode.Combine(Window, FreqRatio, PatchSize, PatchT));
}
