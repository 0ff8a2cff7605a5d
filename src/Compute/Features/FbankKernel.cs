using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ActorTraining.Compute.Features;

/// <summary>
/// The fbank arithmetic of <see cref="FbankExtractor"/> with frames in SIMD lanes: torchaudio's per-frame steps in
/// its order — DC removal, pre-emphasis with the first sample replicated, Hann ("hanning") window, zero padding,
/// power spectrum (<see cref="LaneRealFft"/>, double), mel banks, log with a float-epsilon floor — for a block of
/// Vector256&lt;T&gt;.Count frames at a time, in compute type T (float or double) outside the FFT.
/// The clip is first interleaved: lane l holds the l-th of Count equal runs of consecutive frames, so sample j of
/// every lane's frame is one contiguous vector load (transposing frame by frame cost a quarter of the time).
/// Managed code on the caller's thread: no libtorch call, so a clip worker neither waits for nor takes libtorch's
/// thread pool, which the trainer uses. Read-only after construction: thread-safe; scratch is rented per call.
/// </summary>
internal sealed class FbankKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    const double PreemphasisCoefficient = 0.97;
    static readonly T Epsilon = T.CreateChecked(1.1920928955078125e-07); // numeric_limits<float>::epsilon(), torchaudio's log floor
    static readonly int Lanes = Vector256<T>.Count;
    static readonly int DoubleBlocks = Lanes / Vector256<double>.Count; // 2 for float, 1 for double

    readonly FbankOptions _options;
    readonly LaneRealFft _fft;
    readonly T[] _window;
    readonly int[] _melFirst, _melCount, _melOffset;   // filter m: bins First…First+Count−1, weights at Offset
    readonly T[] _melWeights;

    public FbankKernel(FbankOptions options)
    {
        _options = options;
        _fft = new LaneRealFft(options.PaddedWindowSize);
        int size = options.WindowSize;
        // torch.hann_window(size, periodic=False)
        _window = new T[size];
        for (int j = 0; j < size; j++) _window[j] = T.CreateChecked(0.5 - 0.5 * Math.Cos(2 * Math.PI * j / (size - 1)));
        var bank = new MelFilterBank(options);
        _melFirst = bank.First;
        _melCount = bank.Weights.Select(w => w.Length).ToArray();
        _melOffset = new int[_melCount.Length];
        for (int m = 1; m < _melCount.Length; m++) _melOffset[m] = _melOffset[m - 1] + _melCount[m - 1];
        _melWeights = bank.Weights.SelectMany(w => w).Select(x => T.CreateChecked(x)).ToArray();
    }

    /// <summary>
    /// Writes frames × MelBins log-mel values (row-major) of <paramref name="waveform"/> into <paramref name="output"/>.
    /// The waveform's mean is removed first; a clip shorter than one window is zero-padded to one.
    /// </summary>
    public void Compute(ReadOnlySpan<float> waveform, int frames, Span<float> output)
    {
        int size = _options.WindowSize, shift = _options.WindowShift, melBins = _options.MelBins, n = _fft.Size;
        int run = (frames + Lanes - 1) / Lanes;                 // frames per lane
        int runSamples = (run - 1) * shift + size;              // samples per lane
        var interleaved = ArrayPool<T>.Shared.Rent(runSamples * Lanes);
        var results = ArrayPool<T>.Shared.Rent(run * melBins * Lanes);
        try
        {
            Interleave(waveform, run * shift, runSamples, interleaved);
            var samples = MemoryMarshal.Cast<T, Vector256<T>>(interleaved.AsSpan(0, runSamples * Lanes));
            var mel = MemoryMarshal.Cast<T, Vector256<T>>(results.AsSpan(0, run * melBins * Lanes));
            var wide = new Vector256<double>[DoubleBlocks * n];
            var re = new Vector256<double>[n / 2];
            var im = new Vector256<double>[n / 2];
            var widePower = new Vector256<double>[DoubleBlocks * n / 2];
            var power = new Vector256<T>[n / 2];
            for (int block = 0; block < run; block++)
            {
                Frame(samples.Slice(block * shift, size), wide);
                for (int part = 0; part < DoubleBlocks; part++)
                    _fft.PowerSpectrum(wide.AsSpan(part * n, n), re, im, widePower.AsSpan(part * n / 2, n / 2));
                Narrow(widePower, power);
                LogMel(power, mel.Slice(block * melBins, melBins));
            }
            for (int lane = 0; lane < Lanes; lane++)
                for (int block = 0; block < run; block++)
                {
                    int frame = lane * run + block;
                    if (frame >= frames) break;
                    var row = output.Slice(frame * melBins, melBins);
                    for (int m = 0; m < melBins; m++) row[m] = float.CreateTruncating(results[(block * melBins + m) * Lanes + lane]);
                }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(interleaved);
            ArrayPool<T>.Shared.Return(results);
        }
    }

    /// <summary>
    /// interleaved[i·Lanes + l] = waveform[l·laneStart + i] − mean for i &lt; runSamples, zero past the waveform's end
    /// (a clip shorter than a window, and the unused frames of the last lane).
    /// </summary>
    static void Interleave(ReadOnlySpan<float> waveform, int laneStart, int runSamples, T[] interleaved)
    {
        double sum = 0;
        foreach (var v in waveform) sum += v;
        var mean = T.CreateChecked(sum / waveform.Length);
        // Sample i of every lane is gathered into one vector: reads from Lanes sequential streams, writes sequential.
        var vectors = MemoryMarshal.Cast<T, Vector256<T>>(interleaved.AsSpan(0, runSamples * Lanes));
        int complete = Math.Clamp((waveform.Length - (Lanes - 1) * laneStart), 0, runSamples); // every lane has sample i
        var meanVector = Vector256.Create(mean);
        var w = waveform;
        if (typeof(T) == typeof(float))
        {
            int l1 = laneStart, l2 = 2 * laneStart, l3 = 3 * laneStart, l4 = 4 * laneStart, l5 = 5 * laneStart, l6 = 6 * laneStart, l7 = 7 * laneStart;
            for (int i = 0; i < complete; i++)
                vectors[i] = Vector256.Create(w[i], w[l1 + i], w[l2 + i], w[l3 + i], w[l4 + i], w[l5 + i], w[l6 + i], w[l7 + i]).As<float, T>() - meanVector;
        }
        else
        {
            int l1 = laneStart, l2 = 2 * laneStart, l3 = 3 * laneStart;
            for (int i = 0; i < complete; i++)
                vectors[i] = Vector256.Create(w[i], w[l1 + i], w[l2 + i], w[l3 + i]).As<double, T>() - meanVector;
        }
        for (int i = complete; i < runSamples; i++)
            for (int lane = 0; lane < Lanes; lane++)
            {
                int from = lane * laneStart + i;
                interleaved[i * Lanes + lane] = from < waveform.Length ? T.CreateChecked(waveform[from]) - mean : T.Zero;
            }
    }

    /// <summary>
    /// One block of frames (a window of samples per lane) → DC removed, pre-emphasised, windowed (in T), then zero-padded
    /// to N and written as doubles for the FFT, four lanes per part: wide[part·N + j] holds lanes 4·part … 4·part + 3.
    /// </summary>
    void Frame(ReadOnlySpan<Vector256<T>> window, Span<Vector256<double>> wide)
    {
        int size = window.Length, n = _fft.Size;
        var sum = Vector256<T>.Zero;
        for (int j = 0; j < size; j++) sum += window[j];
        var mean = sum * Vector256.Create(T.One / T.CreateChecked(size));
        var coefficient = Vector256.Create(T.CreateChecked(PreemphasisCoefficient));
        var previous = window[0] - mean;
        var lower = wide[..n];
        var upper = wide[((DoubleBlocks - 1) * n)..];
        for (int j = 0; j < size; j++)
        {
            var current = window[j] - mean;
            var value = (current - coefficient * previous) * Vector256.Create(_window[j]);
            previous = current;
            if (typeof(T) == typeof(double)) lower[j] = value.As<T, double>();
            else (lower[j], upper[j]) = Vector256.Widen(value.As<T, float>());
        }
        for (int part = 0; part < DoubleBlocks; part++) wide.Slice(part * n + size, n - size).Clear();
    }

    static void Narrow(ReadOnlySpan<Vector256<double>> widePower, Span<Vector256<T>> power)
    {
        if (typeof(T) == typeof(double)) { widePower.CopyTo(MemoryMarshal.Cast<Vector256<T>, Vector256<double>>(power)); return; }
        var floats = MemoryMarshal.Cast<Vector256<T>, Vector256<float>>(power);
        for (int k = 0; k < floats.Length; k++) floats[k] = Vector256.Narrow(widePower[k], widePower[floats.Length + k]);
    }

    void LogMel(ReadOnlySpan<Vector256<T>> power, Span<Vector256<T>> mel)
    {
        var floor = Vector256.Create(Epsilon);
        var weights = _melWeights.AsSpan();
        for (int m = 0; m < mel.Length; m++)
        {
            var filter = weights.Slice(_melOffset[m], _melCount[m]);
            var bins = power.Slice(_melFirst[m], filter.Length);
            var energy = Vector256<T>.Zero;
            for (int k = 0; k < filter.Length; k++) energy += Vector256.Create(filter[k]) * bins[k];
            mel[m] = Log(Vector256.Max(energy, floor));
        }
    }

    static Vector256<T> Log(Vector256<T> v) =>
        typeof(T) == typeof(float) ? Vector256.Log(v.As<T, float>()).As<float, T>() : Vector256.Log(v.As<T, double>()).As<double, T>();
}
