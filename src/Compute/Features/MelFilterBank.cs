namespace ActorTraining.Compute.Features;

/// <summary>
/// torchaudio.compliance.kaldi.get_mel_banks (no VTLN; low 20 Hz, high = Nyquist), with the same float32 operations
/// in the same order, stored sparse: each triangular filter covers a handful of the N/2 FFT bins, so a frame's
/// mel energies cost ~2 multiply-adds per bin instead of the dense matrix product's MelBins per bin.
/// </summary>
internal sealed class MelFilterBank
{
    public const double LowFreq = 20;

    /// <summary>Filter m weighs bins First[m] … First[m] + Weights[m].Length − 1 (all other weights are 0).</summary>
    public readonly int[] First;
    public readonly float[][] Weights;

    public MelFilterBank(FbankOptions o)
    {
        int padded = o.PaddedWindowSize, melBins = o.MelBins, fftBins = padded / 2;
        double nyquist = 0.5 * o.SampleRate;
        if (!(LowFreq < nyquist)) throw new ArgumentOutOfRangeException(nameof(o.SampleRate), $"low frequency {LowFreq} Hz is above Nyquist {nyquist} Hz");
        double fftBinWidth = (double)o.SampleRate / padded;
        double melLow = MelScale(LowFreq), melHigh = MelScale(nyquist);
        double melDelta = (melHigh - melLow) / (melBins + 1);
        // torchaudio: bin is an int64 tensor, the Python floats become float32 scalars of float32 tensor ops.
        float delta = (float)melDelta, low = (float)melLow;
        var mel = new float[fftBins];
        for (int k = 0; k < fftBins; k++) mel[k] = 1127.0f * MathF.Log(1.0f + k * (float)fftBinWidth / 700.0f);
        First = new int[melBins];
        Weights = new float[melBins][];
        var row = new float[fftBins];
        for (int m = 0; m < melBins; m++)
        {
            float left = m * delta + low, center = (m + 1.0f) * delta + low, right = (m + 2.0f) * delta + low;
            int first = -1, last = -1;
            for (int k = 0; k < fftBins; k++)
            {
                float up = (mel[k] - left) / (center - left), down = (right - mel[k]) / (right - center);
                row[k] = Math.Max(0f, Math.Min(up, down));
                if (row[k] > 0) { if (first < 0) first = k; last = k; }
            }
            First[m] = Math.Max(first, 0);
            Weights[m] = first < 0 ? [] : row[first..(last + 1)];
        }
    }

    static double MelScale(double freq) => 1127.0 * Math.Log(1.0 + freq / 700.0);
}
