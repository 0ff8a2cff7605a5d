using ActorTraining.Compute.Audio;

namespace ActorTraining.Compute.Tests.Audio;

/// <summary>Decodes files written by a WAV writer and converted by the real ffmpeg; checks content, not just "no exception".</summary>
public sealed class AudioDecoderTests : IDisposable
{
    private readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    /// <summary>The mono test signal at 16 kHz, computed analytically (mean of the per-channel tones).</summary>
    private static float[] Expected16k(int channels, double seconds, double startSeconds = 0)
    {
        int n = (int)Math.Round(16000 * seconds);
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            double t = startSeconds + i / 16000.0, sum = 0;
            for (int c = 0; c < channels; c++)
                sum += 0.5 * Math.Sin(2 * Math.PI * (440 + 110 * c) * t) + 0.25 * Math.Sin(2 * Math.PI * 1250 * t);
            y[i] = (float)(sum / channels);
        }
        return y;
    }

    private static double MaxAbsDiff(float[] a, float[] b, int from, int to)
    {
        double max = 0;
        for (int i = from; i < to; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    [Theory]
    [InlineData(8, false, false, 1, 1.5e-2)]   // 8-bit: quantisation step 1/128
    [InlineData(16, false, false, 1, 1e-4)]
    [InlineData(24, false, false, 1, 1e-6)]
    [InlineData(32, false, false, 1, 1e-6)]
    [InlineData(32, true, false, 1, 1e-7)]
    [InlineData(64, true, false, 1, 1e-7)]
    [InlineData(16, false, true, 2, 1e-4)]     // WAVE_FORMAT_EXTENSIBLE PCM, stereo
    [InlineData(32, true, true, 2, 1e-7)]      // WAVE_FORMAT_EXTENSIBLE float, stereo
    [InlineData(16, false, false, 2, 1e-4)]    // plain stereo: averaged
    [InlineData(24, false, false, 6, 1e-6)]    // 5.1-sized: six channels averaged
    public void WavAt16kDecodesToTheSamplesWritten(int bits, bool isFloat, bool extensible, int channels, double tolerance)
    {
        var path = _files.WriteWav("x.wav", TestFiles.Tones(16000, 0.5, channels), 16000, bits, isFloat, extensible);
        var y = AudioDecoder.Decode(path);
        var expected = Expected16k(channels, 0.5);
        Assert.Equal(expected.Length, y.Length);
        Assert.InRange(MaxAbsDiff(y, expected, 0, y.Length), 0, tolerance);
    }

    [Theory]
    [InlineData(8000)]
    [InlineData(22050)]
    [InlineData(44100)]
    [InlineData(48000)]
    public void WavAtOtherRatesIsResampledBandLimited(int rate)
    {
        var path = _files.WriteWav($"r{rate}.wav", TestFiles.Tones(rate, 1.0, 1), rate, 32, isFloat: true);
        var y = AudioDecoder.Decode(path);
        var expected = Expected16k(1, 1.0);
        Assert.InRange(y.Length, 15999, 16001);
        // Away from the edges (where the filter sees zero padding) the resampled tones match the analytic signal.
        double err = MaxAbsDiff(y, expected, 800, 15200);
        Assert.True(err < 2e-3, $"max error {err} resampling {rate} Hz → 16 kHz");
    }

    [Theory]
    [InlineData("flac", new[] { "-c:a", "flac" }, true)]
    [InlineData("mp3", new[] { "-c:a", "libmp3lame", "-b:a", "192k" }, false)]
    [InlineData("mp3", new[] { "-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0", "-write_xing", "0" }, false)] // bare frames, no ID3 tag
    [InlineData("m4a", new[] { "-c:a", "aac", "-b:a", "192k" }, false)]
    [InlineData("ogg", new[] { "-c:a", "libvorbis", "-q:a", "6" }, false)]
    [InlineData("opus", new[] { "-c:a", "libopus", "-b:a", "128k" }, false)]
    public void CompressedFormatsDecodeToTheSameTones(string ext, string[] codec, bool lossless)
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(44100, 1.0, 2), 44100, 16);
        var path = _files.Ffmpeg(wav, $"x.{ext}", codec);
        var y = AudioDecoder.Decode(path);
        var expected = Expected16k(2, 1.0);
        Assert.InRange(y.Length, 15800, 16800); // codec priming/padding may add or drop a few ms
        if (lossless)
            Assert.InRange(MaxAbsDiff(y, expected, 800, 15200), 0, 2e-3);
        else
            AssertSameTones(y, expected);
    }

    /// <summary>
    /// Uncompressed containers other than plain RIFF: AIFF (NAudio's reader swaps the big-endian samples; AIFF's 8-bit
    /// samples are signed), RF64 (WAV past 4 GiB, NAudio reads the ds64 sizes), and AIFF-C "sowt", which NAudio refuses
    /// and ffmpeg decodes. Same tolerance as the WAV cases of the same sample size.
    /// </summary>
    [Theory]
    [InlineData("aiff", new[] { "-c:a", "pcm_s16be" }, 1e-4)]
    [InlineData("aiff", new[] { "-c:a", "pcm_s24be" }, 1e-6)]
    [InlineData("aiff", new[] { "-c:a", "pcm_s32be" }, 1e-6)]
    [InlineData("aiff", new[] { "-c:a", "pcm_s8" }, 1.5e-2)]
    [InlineData("aifc", new[] { "-c:a", "pcm_s16le" }, 1e-4)]
    [InlineData("wav", new[] { "-c:a", "pcm_s16le", "-rf64", "always" }, 1e-4)]
    public void AiffAndRf64DecodeToTheSamplesWritten(string ext, string[] codec, double tolerance)
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 1.0, 2), 16000, 32, isFloat: true);
        var path = _files.Ffmpeg(wav, $"x.{ext}", codec);
        if (codec.Contains("-rf64")) Assert.Equal("RF64"u8.ToArray(), File.ReadAllBytes(path)[..4]);
        var y = AudioDecoder.Decode(path);
        Assert.Equal(16000, y.Length);
        Assert.InRange(MaxAbsDiff(y, Expected16k(2, 1.0), 0, y.Length), 0, tolerance);
        var window = AudioDecoder.Decode(path, new DecodeOptions(StartSeconds: 0.25, MaxSeconds: 0.5));
        Assert.Equal(y[4000..12000], window);
    }

    [Fact]
    public void Mp4VideoWithAnAudioTrackDecodesTheAudio()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(48000, 1.0, 2), 48000, 16);
        var mp4 = _files.PathOf("clip.mp4");
        TestFiles.Run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
            "-i", wav, "-c:v", "mpeg4", "-c:a", "aac", "-shortest", mp4);
        var y = AudioDecoder.Decode(mp4);
        AssertSameTones(y, Expected16k(2, 1.0));
    }

    /// <summary>Lossy codecs shift and reshape samples; compare what AST sees: tone energies and loudness.</summary>
    private static void AssertSameTones(float[] y, float[] expected)
    {
        double Rms(float[] x) => Math.Sqrt(x.Skip(1600).Take(12800).Sum(v => (double)v * v) / 12800);
        Assert.InRange(Rms(y) / Rms(expected), 0.9, 1.1);
        foreach (var f in new[] { 440.0, 550.0, 1250.0 })
            Assert.InRange(Goertzel(y, f) / Goertzel(expected, f), 0.8, 1.25);
        Assert.True(Goertzel(y, 3000) < 1e-3 * Goertzel(y, 440), "energy at 3 kHz where there is no tone");
    }

    private static double Goertzel(float[] x, double freq)
    {
        double w = 2 * Math.PI * freq / 16000, coeff = 2 * Math.Cos(w), s1 = 0, s2 = 0;
        for (int i = 1600; i < 14400; i++) { double s = x[i] + coeff * s1 - s2; s2 = s1; s1 = s; }
        return s1 * s1 + s2 * s2 - coeff * s1 * s2;
    }

    [Fact]
    public void FormatIsDetectedFromContentNotExtension()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 0.5, 1), 16000, 16);
        var flacNamedWav = _files.Ffmpeg(wav, "flac-inside.flac", "-c:a", "flac");
        File.Move(flacNamedWav, _files.PathOf("really-flac.wav"));
        File.Copy(wav, _files.PathOf("really-wav.mp3"));
        var expected = Expected16k(1, 0.5);
        Assert.InRange(MaxAbsDiff(AudioDecoder.Decode(_files.PathOf("really-flac.wav")), expected, 0, 8000), 0, 1e-4);
        Assert.InRange(MaxAbsDiff(AudioDecoder.Decode(_files.PathOf("really-wav.mp3")), expected, 0, 8000), 0, 1e-4);
    }

    [Theory]
    [InlineData("wav")]
    [InlineData("flac")]
    [InlineData("mp3")]
    [InlineData("ogg")]
    [InlineData("opus")]
    public void StartOffsetAndMaxDurationAreHonoured(string ext)
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 3.0, 1), 16000, 16);
        var path = ext switch
        {
            "wav" => wav,
            "flac" => _files.Ffmpeg(wav, "x.flac", "-c:a", "flac"),
            "mp3" => _files.Ffmpeg(wav, "x.mp3", "-c:a", "libmp3lame", "-b:a", "192k"),
            "opus" => _files.Ffmpeg(wav, "x.opus", "-c:a", "libopus", "-b:a", "128k"),
            _ => _files.Ffmpeg(wav, "x.ogg", "-c:a", "libvorbis"),
        };
        var y = AudioDecoder.Decode(path, new DecodeOptions(StartSeconds: 1.0, MaxSeconds: 0.5));
        Assert.InRange(y.Length, 7900, 8000);
        if (ext is "wav" or "flac")
            Assert.InRange(MaxAbsDiff(y, Expected16k(1, 0.5, startSeconds: 1.0), 0, y.Length), 0, 1e-4);
    }
}
