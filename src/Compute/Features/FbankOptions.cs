namespace ActorTraining.Compute.Features;

/// <summary>Kaldi fbank settings AST varies: frame shift (10·C ms for Frame-Shift compression), mel bins, frame length, rate.</summary>
public sealed record FbankOptions(double FrameShiftMs = 10, int MelBins = 128, double FrameLengthMs = 25, int SampleRate = 16000)
{
    // Same arithmetic and order as torchaudio: int(sample_frequency * frame_shift * 0.001).
    public int WindowShift => (int)(SampleRate * FrameShiftMs * 0.001);
    public int WindowSize => (int)(SampleRate * FrameLengthMs * 0.001);
    public int PaddedWindowSize => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)WindowSize);

    /// <summary>Frames torchaudio's snip_edges framing yields for a waveform of this many samples (0 when shorter than a frame).</summary>
    public int FrameCount(long samples) => samples < WindowSize ? 0 : (int)(1 + (samples - WindowSize) / WindowShift);

    public void Validate()
    {
        if (WindowShift < 1) throw new ArgumentOutOfRangeException(nameof(FrameShiftMs), $"frame shift {FrameShiftMs} ms is under one sample at {SampleRate} Hz");
        if (WindowSize < 2) throw new ArgumentOutOfRangeException(nameof(FrameLengthMs), $"frame length {FrameLengthMs} ms is under two samples");
        if (MelBins <= 3) throw new ArgumentOutOfRangeException(nameof(MelBins), $"mel bins {MelBins}: need at least 4");
        if (SampleRate < 1000) throw new ArgumentOutOfRangeException(nameof(SampleRate), $"sample rate {SampleRate} Hz");
    }
}
