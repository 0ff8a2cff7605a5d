using ActorTraining.Compute.Audio;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Audio;

/// <summary>
/// An MP3 decodes gapless: the encoder's priming samples, the decoder's delay and the last frame's padding, as the
/// Xing/Info frame's LAME tag states them, are cut, so our samples are ffmpeg's — the same count and no shift (NLayer,
/// the managed decoder used before libmpg123, returned them too: every file here shifted by 1 105 samples — 576 of
/// encoder delay, 529 of decoder delay — and 1 184–1 980 samples longer). A file without the tag (bare frames) has
/// nothing to go by and is decoded as it is.
/// </summary>
public sealed class Mp3GaplessTests(ITestOutputHelper output) : IDisposable
{
    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    static int BestLag(float[] a, float[] b, int range)
    {
        int best = 0;
        double bestScore = double.MinValue;
        for (int lag = -range; lag <= range; lag++)
        {
            double s = 0;
            for (int i = 4000; i < 12000; i++) s += a[i] * (double)b[i + lag];
            if (s > bestScore) { bestScore = s; best = lag; }
        }
        return best;
    }

    [Theory]
    [InlineData(44100, 1.0, "192k")]
    [InlineData(22050, 0.73, "64k")]   // MPEG-2: 576 samples a frame
    [InlineData(16000, 2.0, "128k")]
    public void AnMp3HasFfmpegsSamplesNotThePrimingOrThePadding(int sampleRate, double seconds, string bitrate)
    {
        var wav = _files.WriteWav("noise.wav", TestFiles.Noise(sampleRate, seconds, channels: 1, seed: 4), sampleRate, 16);
        var mp3 = _files.Ffmpeg(wav, $"noise-{sampleRate}.mp3", "-c:a", "libmp3lame", "-b:a", bitrate);
        var ours = AudioDecoder.Decode(mp3, new DecodeOptions(SampleRate: sampleRate));
        var ffmpeg = TestFiles.FfmpegSamples(mp3, channels: 1, sampleRate);
        int lag = BestLag(ours, ffmpeg, 3000);
        double error = 0, energy = 0;
        for (int i = 0; i < Math.Min(ours.Length, ffmpeg.Length); i++) { error += Math.Pow(ours[i] - ffmpeg[i], 2); energy += ffmpeg[i] * (double)ffmpeg[i]; }
        output.WriteLine($"{sampleRate} Hz {bitrate}: ours {ours.Length} samples, ffmpeg {ffmpeg.Length}, source {(int)(sampleRate * seconds)}; lag {lag}; relative error {Math.Sqrt(error / energy):E2}");
        Assert.Equal(ffmpeg.Length, ours.Length);
        Assert.Equal(0, lag);
        Assert.InRange(Math.Sqrt(error / energy), 0, 1e-4);
    }

    /// <summary>A start offset and a maximum length cut the same samples out of ffmpeg's whole decode: the seek is exact.</summary>
    [Fact]
    public void AStartAndALengthGiveFfmpegsSamplesAtThatPlace()
    {
        const int rate = 44100;
        var wav = _files.WriteWav("noise.wav", TestFiles.Noise(rate, 2.0, channels: 1, seed: 4), rate, 16);
        var mp3 = _files.Ffmpeg(wav, "noise.mp3", "-c:a", "libmp3lame", "-b:a", "192k");
        var ffmpeg = TestFiles.FfmpegSamples(mp3, channels: 1, rate);
        var ours = AudioDecoder.Decode(mp3, new DecodeOptions(SampleRate: rate, StartSeconds: 0.7, MaxSeconds: 0.5));
        int start = (int)Math.Round(0.7 * rate);
        Assert.Equal((int)Math.Ceiling(0.5 * rate), ours.Length);
        double worst = 0;
        for (int i = 0; i < ours.Length; i++) worst = Math.Max(worst, Math.Abs(ours[i] - ffmpeg[start + i]));
        output.WriteLine($"start 0.7 s, 0.5 s: {ours.Length} samples, max |Δ| against ffmpeg's decode {worst:E2}");
        Assert.InRange(worst, 0, 1e-3);
    }

    [Fact]
    public void BareFramesWithoutATagAreDecodedAsTheyAre()
    {
        var wav = _files.WriteWav("noise.wav", TestFiles.Noise(44100, 1.0, channels: 1, seed: 4), 44100, 16);
        var mp3 = _files.Ffmpeg(wav, "bare.mp3", "-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0", "-write_xing", "0");
        var ours = AudioDecoder.Decode(mp3, new DecodeOptions(SampleRate: 44100));
        output.WriteLine($"bare frames: {ours.Length} samples for 44100 of source");
        Assert.Equal(0, ours.Length % 1152); // whole frames: nothing says what to cut
        Assert.InRange(ours.Length, 44100, 44100 + 3 * 1152);
    }
}
