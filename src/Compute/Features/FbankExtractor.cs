using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Features;

/// <summary>
/// Log-mel filter bank identical to what the AST reference computes: waveform − mean, then
/// torchaudio.compliance.kaldi.fbank(htk_compat=True, use_energy=False, window_type='hanning', dither=0,
/// frame_shift=…, num_mel_bins=…) with its defaults (25 ms, pre-emphasis 0.97, DC removal, power spectrum,
/// FFT size rounded to a power of two, snip_edges, low 20 Hz, high = Nyquist, log with a float-epsilon floor).
/// Torchaudio's steps in torchaudio's order, computed by <see cref="FbankKernel{T}"/> in managed SIMD code (it
/// replaced a chain of libtorch ops that ran at 0.64–0.69× torchaudio per core; BENCHMARKS.md (b)). Default compute
/// type float32, as AST runs it; float64 gives the kaldi fbank without float32 FFT rounding (which reaches ~1e-2 in
/// log-mel cells near the log floor, for torchaudio as for us). Output is float32 either way.
/// Window, FFT twiddles and mel banks are built once per extractor. Thread-safe: one instance can be shared by any
/// number of workers (the tables are only read; scratch is per call).
/// </summary>
public sealed class FbankExtractor
{
    private readonly FbankOptions _options;
    private readonly FbankKernel<float>? _single;
    private readonly FbankKernel<double>? _double;

    public FbankExtractor(FbankOptions options) : this(options, ScalarType.Float32) { }

    public FbankExtractor(FbankOptions options, ScalarType computeType)
    {
        options.Validate();
        if (computeType is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(computeType), $"fbank computes in float32 or float64, not {computeType}");
        _options = options;
        if (computeType == ScalarType.Float32) _single = new FbankKernel<float>(options);
        else _double = new FbankKernel<double>(options);
    }

    public FbankOptions Options => _options;

    /// <summary>
    /// [frames, MelBins] float32 on the CPU; [0, MelBins] for an empty waveform. A clip shorter than one analysis
    /// window (a 19 ms tick) is zero-padded after its mean is removed to one window, so it gives one frame at any
    /// frame shift: kaldi's fbank (and torchaudio's) refuses such clips, but short percussive samples are ordinary in
    /// sound-event corpora and carry their label.
    /// </summary>
    public Tensor Compute(float[] waveform) =>
        torch.tensor(Values(waveform), [FrameCount(waveform.Length), _options.MelBins], float32);

    /// <summary>The same values as <see cref="Compute"/>, row-major frames × MelBins, without a tensor.</summary>
    public float[] Values(ReadOnlySpan<float> waveform)
    {
        int frames = FrameCount(waveform.Length);
        var output = new float[frames * _options.MelBins];
        if (frames == 0) return output;
        if (_single is not null) _single.Compute(waveform, frames, output);
        else _double!.Compute(waveform, frames, output);
        return output;
    }

    /// <summary>Frames of a clip of <paramref name="samples"/> samples: at least one unless it is empty (see <see cref="Compute"/>).</summary>
    public int FrameCount(long samples) => samples == 0 ? 0 : _options.FrameCount(Math.Max(samples, _options.WindowSize));

    /// <summary>True when a clip of <paramref name="samples"/> samples is zero-padded to one window.</summary>
    public bool IsPadded(long samples) => samples > 0 && samples < _options.WindowSize;
}
