using ActorTraining.Compute.Runtime;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// SSAST's pretraining objective (<c>training.objective = ssast-pretrain</c>; YuanGongND/ssast, traintest_mask.py,
/// task pretrain_joint): per clip, a discriminative and a generative pass, each on its own masked patches, loss
/// nce + 10 · mse. Masking is by clusters for patch-based models and by random frames for frame-based ones (a patch as
/// tall as the spectrogram), as the reference decides it (cluster = num_mel_bins ≠ fshape). How many patches:
/// <paramref name="MaskRatio"/> of the phase's patches (<see cref="SsastMasks.Count"/>; the reference's 400 of 512).
/// Each clip's masks come from its own seed, which the caller derives from (seed, phase, epoch, position): the same on
/// resume and however the batch is split across ranks.
/// </summary>
public sealed record SsastPretext(double MaskRatio)
{
    /// <summary>The reference's masking: 400 of 512 patches.</summary>
    public static readonly SsastPretext Reference = new(SsastMasks.ReferenceRatio);

    /// <summary>The reference's weight of the generative loss: loss = nce + 10 · mse.</summary>
    public const double GenerativeWeight = 10;

    /// <summary>The metrics of a pretraining evaluation (and their order in a scored row: one row per clip).</summary>
    public static readonly string[] ScoreNames = ["pretext_accuracy", "nce", "mse"];

    /// <summary>Masked patches per clip in a phase of <paramref name="geometry"/>.</summary>
    public int MaskCount(AstConfig geometry) => SsastMasks.Count(geometry.NumPatches, MaskRatio);

    /// <summary>The patches one clip masks, drawn from <paramref name="clipSeed"/>.</summary>
    public long[] MaskOf(AstConfig geometry, int clipSeed)
    {
        var random = new Random(clipSeed);
        int count = MaskCount(geometry);
        return geometry.PatchF < geometry.MelBins
            ? SsastMasks.Clusters(geometry.NumPatches, geometry.TDim, count, random)
            : SsastMasks.Frames(geometry.NumPatches, count, random);
    }

    /// <summary>The batch's masks [B, M] for the discriminative and the generative pass, each clip's from its two seeds.</summary>
    public (Tensor Discriminative, Tensor Generative) Masks(AstConfig geometry, IReadOnlyList<(int Discriminative, int Generative)> clipSeeds, RankDevice device)
    {
        int m = MaskCount(geometry);
        var d = new long[clipSeeds.Count * m];
        var g = new long[clipSeeds.Count * m];
        for (int i = 0; i < clipSeeds.Count; i++)
        {
            MaskOf(geometry, clipSeeds[i].Discriminative).CopyTo(d, i * m);
            MaskOf(geometry, clipSeeds[i].Generative).CopyTo(g, i * m);
        }
        long[] shape = [clipSeeds.Count, m];
        return (device.Indices(d, shape), device.Indices(g, shape));
    }

    /// <summary>Per clip [B]: accuracy, nce, mse and the loss nce + 10 · mse.</summary>
    public static (Tensor Accuracy, Tensor Nce, Tensor Mse, Tensor Loss) Run(SsastModel model, Tensor x, Tensor discriminative, Tensor generative)
    {
        var (accuracy, nce, mse) = model.Pretext(x, discriminative, generative);
        using var weight = new ScalarScope();
        return (accuracy, nce, mse, nce.add(mse, weight.Of(GenerativeWeight)));
    }
}
