using ActorTraining.Compute.Runtime;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Features;

/// <summary>
/// What the AST reference dataloader does between fbank and the model: pad/cut to target_length, SpecAugment
/// (training only, before normalisation), normalisation, and waveform-level mixup. Every tensor returned is new.
/// </summary>
public static class AstPreprocessing
{
    public const double AudioSetMean = -4.2677393, AudioSetStd = 4.5689974;

    /// <summary>[T, F] → [targetLength, F]: zero frames appended at the end, or the tail cut off.</summary>
    public static Tensor PadOrCut(Tensor fbank, int targetLength)
    {
        if (targetLength < 1) throw new ArgumentOutOfRangeException(nameof(targetLength), $"target length {targetLength}");
        long frames = fbank.shape[^2];
        if (frames == targetLength) return fbank.clone();
        if (frames > targetLength) return fbank[TensorIndex.Ellipsis, TensorIndex.Slice(0, targetLength), TensorIndex.Colon].clone();
        return nn.functional.pad(fbank, [0, 0, 0, targetLength - frames]);
    }

    /// <summary>(x − mean) / (2·std), as the reference writes it.</summary>
    public static Tensor Normalize(Tensor fbank, double mean, double std)
    {
        if (!(std > 0)) throw new ArgumentOutOfRangeException(nameof(std), $"std {std} must be positive");
        using var n = new ScalarScope();
        return fbank.sub(n.Of(mean)).div(n.Of(std * 2));
    }

    /// <summary>
    /// torchaudio FrequencyMasking(freqm) then TimeMasking(timem) on a [T, F] (or [..., T, F]) fbank, masked cells = 0:
    /// width = U·param, start = floor(U·(size − width)), cells [start, start + floor(width)). A zero param skips that mask
    /// (and draws nothing), as the reference does.
    /// </summary>
    public static Tensor SpecAugment(Tensor fbank, int freqm, int timem, Random rng)
    {
        if (freqm < 0 || timem < 0) throw new ArgumentOutOfRangeException(freqm < 0 ? nameof(freqm) : nameof(timem), "mask widths must be ≥ 0");
        var result = fbank.clone();
        using var n = new ScalarScope();
        long frames = fbank.shape[^2], bins = fbank.shape[^1];
        if (freqm > 0)
        {
            var (start, end) = MaskRange(freqm, bins, rng);
            if (end > start) result[TensorIndex.Ellipsis, TensorIndex.Slice(start, end)].fill_(n.Of(0.0));
        }
        if (timem > 0)
        {
            var (start, end) = MaskRange(timem, frames, rng);
            if (end > start) result[TensorIndex.Ellipsis, TensorIndex.Slice(start, end), TensorIndex.Colon].fill_(n.Of(0.0));
        }
        return result;
    }

    private static (long Start, long End) MaskRange(int maskParam, long size, Random rng)
    {
        double value = rng.NextDouble() * maskParam;
        double minValue = rng.NextDouble() * (size - value);
        long start = (long)minValue;
        return (Math.Max(0, start), Math.Min(size, start + (long)value));
    }

    /// <summary>
    /// The reference's waveform mixup: both clips centred, partner zero-padded or cut to the first clip's length,
    /// λ ~ Beta(10, 10), mixed = λ·first + (1 − λ)·partner, re-centred. Labels are mixed by the caller: λ·y1 + (1 − λ)·y2.
    /// </summary>
    public static (float[] Mixed, double Lambda) Mixup(float[] first, float[] partner, Random rng)
    {
        if (first.Length == 0) throw new ArgumentException("first clip is empty", nameof(first));
        double lambda = SampleBeta(10, 10, rng);
        double m1 = Mean(first), m2 = partner.Length == 0 ? 0 : Mean(partner);
        var mixed = new float[first.Length];
        for (int i = 0; i < mixed.Length; i++)
        {
            double p = i < partner.Length ? partner[i] - m2 : 0;
            mixed[i] = (float)(lambda * (first[i] - m1) + (1 - lambda) * p);
        }
        double mm = Mean(mixed);
        for (int i = 0; i < mixed.Length; i++) mixed[i] = (float)(mixed[i] - mm);
        return (mixed, lambda);
    }

    private static double Mean(float[] x)
    {
        double s = 0;
        foreach (var v in x) s += v;
        return s / x.Length;
    }

    /// <summary>Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    internal static double SampleBeta(double a, double b, Random rng)
    {
        double x = SampleGamma(a, rng), y = SampleGamma(b, rng);
        return x / (x + y);
    }

    /// <summary>Marsaglia–Tsang (2000) for shape ≥ 1.</summary>
    private static double SampleGamma(double shape, Random rng)
    {
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = SampleNormal(rng);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    private static double SampleNormal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
