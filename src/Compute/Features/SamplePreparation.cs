using ActorTraining.Compute.Compression;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Features;

/// <summary>
/// A 10 ms (or Frame-Shift) fbank to the model's input row, in one step: the phase's compression (pooling over time),
/// pad or cut to the phase's input length, SpecAugment seeded from the sample (training only), normalisation. The
/// same operations in the same order as the AST reference's dataloader, so an input does not depend on where it was
/// prepared. One tensor in, one array out; a worker calls it right after it has the fbank.
/// </summary>
public sealed record SamplePreparation(Compression.Compression Compression, int InputFrames, int FreqMask, int TimeMask, double Mean, double Std)
{
    /// <summary>[frames, mel] values → [InputFrames · mel] values; <paramref name="augmentSeed"/> null = no augmentation.</summary>
    public float[] Prepare(float[] values, int frames, int melBins, int? augmentSeed)
    {
        using var scope = NewDisposeScope();
        var fbank = Compression.ApplyToFbank(tensor(values, [frames, melBins]));
        fbank = AstPreprocessing.PadOrCut(fbank, InputFrames);
        if (augmentSeed is { } seed && (FreqMask > 0 || TimeMask > 0))
            fbank = AstPreprocessing.SpecAugment(fbank, FreqMask, TimeMask, new Random(seed ^ 0x5EC));
        fbank = AstPreprocessing.Normalize(fbank, Mean, Std);
        return fbank.contiguous().data<float>().ToArray();
    }
}
