using ActorTraining.Compute.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Features;

/// <summary>
/// Log-mel filter bank identical to what the AST reference computes: waveform − mean, then
/// torchaudio.compliance.kaldi.fbank(htk_compat=True, use_energy=False, window_type='hanning', dither=0,
/// frame_shift=…, num_mel_bins=…) with its defaults (25 ms, pre-emphasis 0.97, DC removal, power spectrum,
/// FFT size rounded to a power of two, snip_edges, low 20 Hz, high = Nyquist, log with a float-epsilon floor).
/// The same tensor operations in the same order as torchaudio. Default compute type float32, as AST runs it;
/// float64 gives the kaldi fbank without float32 FFT rounding (which reaches ~1e-2 in log-mel cells near the
/// log floor, for torchaudio as for us). Output is float32 either way.
/// Window and mel matrix are built once per extractor. Thread-safe: one instance can be shared by any number of
/// spectrogram workers (the cached tensors are only read; dispose scopes are per thread).
/// </summary>
public sealed class FbankExtractor
{
    private const double PreemphasisCoefficient = 0.97;
    private const double LowFreq = 20;
    private const float Epsilon = 1.1920928955078125e-07f; // numeric_limits<float>::epsilon(), torchaudio's log floor

    private readonly FbankOptions _options;
    private readonly ScalarType _computeType;
    private readonly Tensor _window;   // [1, WindowSize]
    private readonly Tensor _melT;     // [PaddedWindowSize/2 + 1, MelBins]

    public FbankExtractor(FbankOptions options) : this(options, ScalarType.Float32) { }

    public FbankExtractor(FbankOptions options, ScalarType computeType)
    {
        options.Validate();
        if (computeType is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(computeType), $"fbank computes in float32 or float64, not {computeType}");
        _options = options;
        _computeType = computeType;
        using var scope = NewDisposeScope();
        _window = hann_window(options.WindowSize, periodic: false, dtype: computeType).unsqueeze(0).MoveToOuterDisposeScope();
        // torchaudio builds the banks in float32 and casts them to the waveform's dtype.
        _melT = MelBanks(options).to(computeType).T.contiguous().MoveToOuterDisposeScope();
        _window.DetachFromDisposeScope();
        _melT.DetachFromDisposeScope();
    }

    public FbankOptions Options => _options;

    /// <summary>
    /// [frames, MelBins] float32 on the CPU; [0, MelBins] for an empty waveform. A clip shorter than one analysis
    /// window (a 19 ms tick) is zero-padded after its mean is removed to one window, so it gives one frame at any
    /// frame shift: kaldi's fbank (and torchaudio's) refuses such clips, but short percussive samples are ordinary in
    /// sound-event corpora and carry their label.
    /// </summary>
    public Tensor Compute(float[] waveform) => ComputeBatch([waveform])[0];

    /// <summary>
    /// Frames of several clips go through one FFT and one matmul, in groups of about <see cref="GroupFrames"/> frames:
    /// short clips are batched (per-call overhead dominates them), while a group stays small enough for the
    /// elementwise passes stay in cache (concatenating 16 ten-second clips into one tensor ran slower in a short run).
    /// </summary>
    public IReadOnlyList<Tensor> ComputeBatch(IReadOnlyList<float[]> waveforms)
    {
        var results = new Tensor[waveforms.Count];
        var group = new List<int>();
        int frames = 0;
        for (int i = 0; i < waveforms.Count; i++)
        {
            int n = FrameCount(waveforms[i].Length);
            if (n == 0) { results[i] = zeros(0, _options.MelBins, float32); continue; }
            group.Add(i);
            frames += n;
            if (frames >= GroupFrames) { ComputeGroup(waveforms, group, results); group.Clear(); frames = 0; }
        }
        if (group.Count > 0) ComputeGroup(waveforms, group, results);
        return results;
    }

    /// <summary>Frames of a clip of <paramref name="samples"/> samples: at least one unless it is empty (see <see cref="Compute"/>).</summary>
    public int FrameCount(long samples) => samples == 0 ? 0 : _options.FrameCount(Math.Max(samples, _options.WindowSize));

    /// <summary>True when a clip of <paramref name="samples"/> samples is zero-padded to one window.</summary>
    public bool IsPadded(long samples) => samples > 0 && samples < _options.WindowSize;

    /// <summary>Frames per FFT/matmul call: about one 10 s clip at a 10 ms shift.</summary>
    public const int GroupFrames = 1024;

    private void ComputeGroup(IReadOnlyList<float[]> waveforms, List<int> group, Tensor[] results)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var counts = new long[group.Count];
        var framed = new Tensor[group.Count];
        for (int k = 0; k < group.Count; k++)
        {
            var w = waveforms[group[k]];
            counts[k] = FrameCount(w.Length);
            var x = torch.tensor(w).to(_computeType);
            x = x - x.mean();
            if (w.Length < _options.WindowSize)
            {
                var padded = zeros(_options.WindowSize, _computeType);
                padded.narrow(0, 0, w.Length).copy_(x);
                x = padded;
            }
            framed[k] = x.as_strided([counts[k], _options.WindowSize], [_options.WindowShift, 1]);
        }
        var features = LogMel(framed.Length == 1 ? framed[0] : cat(framed, 0)).to(float32);
        if (group.Count == 1) { results[group[0]] = features.contiguous().MoveToOuterDisposeScope(); return; }
        var parts = features.split(counts, 0);
        for (int k = 0; k < group.Count; k++) results[group[k]] = parts[k].contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>torchaudio's _get_window + fbank body for frames [m, WindowSize].</summary>
    private Tensor LogMel(Tensor frames)
    {
        using var n = new ScalarScope();
        frames = frames - frames.mean([1], keepdim: true);                                   // remove DC per frame
        var previous = cat([frames[.., ..1], frames[.., ..^1]], 1);                           // replicate-pad on the left
        frames = frames - previous.mul(n.Of(PreemphasisCoefficient));
        frames = frames * _window;
        int pad = _options.PaddedWindowSize - _options.WindowSize;
        if (pad > 0) frames = nn.functional.pad(frames, [0, pad]);
        var power = fft.rfft(frames).abs().pow(n.Of(2.0));
        var mel = power.mm(_melT);
        return torch.maximum(mel, tensor(Epsilon).to(_computeType)).log();
    }

    /// <summary>torchaudio.compliance.kaldi.get_mel_banks (no VTLN), same float32 ops, plus the zero column for the Nyquist bin.</summary>
    private static Tensor MelBanks(FbankOptions o)
    {
        int padded = o.PaddedWindowSize, numBins = o.MelBins;
        double nyquist = 0.5 * o.SampleRate, highFreq = nyquist;
        if (!(LowFreq < nyquist)) throw new ArgumentOutOfRangeException(nameof(o.SampleRate), $"low frequency {LowFreq} Hz is above Nyquist {nyquist} Hz");
        double fftBinWidth = (double)o.SampleRate / padded;
        double melLow = MelScale(LowFreq), melHigh = MelScale(highFreq);
        double melDelta = (melHigh - melLow) / (numBins + 1);
        using var n = new ScalarScope();
        var bin = HeldScalars.Range(n.Of((long)numBins), int64).unsqueeze(1);
        var leftMel = bin.mul(n.Of(melDelta)).Plus(n.Of(melLow));
        var centerMel = bin.Plus(n.Of(1.0)).mul(n.Of(melDelta)).Plus(n.Of(melLow));
        var rightMel = bin.Plus(n.Of(2.0)).mul(n.Of(melDelta)).Plus(n.Of(melLow));
        var mel = arange(n.Of(0.0), n.Of((long)(padded / 2)), n.Of(1.0), float32).mul(n.Of(fftBinWidth)).div(n.Of(700.0)).Plus(n.Of(1.0)).log()
            .mul(n.Of(1127.0)).unsqueeze(0);
        var up = (mel - leftMel) / (centerMel - leftMel);
        var down = (rightMel - mel) / (rightMel - centerMel);
        var bins = torch.maximum(zeros(1), torch.minimum(up, down));
        return nn.functional.pad(bins, [0, 1]);
    }

    private static double MelScale(double freq) => 1127.0 * Math.Log(1.0 + freq / 700.0);
}
