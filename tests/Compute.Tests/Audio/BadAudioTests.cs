using ActorTraining.Compute.Audio;

namespace ActorTraining.Compute.Tests.Audio;

/// <summary>Every kind of broken file ends in an AudioDecodeException naming the file and a specific reason.</summary>
public sealed class BadAudioTests : IDisposable
{
    private readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    private static void AssertFails(string path, string reasonFragment)
    {
        var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Contains(reasonFragment, e.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith(e.FilePath + ": ", e.Message);
    }

    private byte[] Pcm16(int frames) => new byte[frames * 2];

    [Fact]
    public void ZeroLengthFile()
    {
        var path = _files.PathOf("empty.wav");
        File.WriteAllBytes(path, []);
        AssertFails(path, "is empty (0 bytes)");
    }

    [Fact]
    public void MissingFile() => AssertFails(_files.PathOf("nope.wav"), "not found");

    [Fact]
    public void TruncatedWav()
    {
        var full = _files.WriteWav("full.wav", TestFiles.Tones(16000, 1.0, 1), 16000, 16);
        var bytes = File.ReadAllBytes(full);
        var path = _files.PathOf("cut.wav");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertFails(path, "truncated");
    }

    [Fact]
    public void TruncatedAiff()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 1.0, 1), 16000, 16);
        var aiff = File.ReadAllBytes(_files.Ffmpeg(wav, "x.aiff", "-c:a", "pcm_s16be"));
        var path = _files.PathOf("cut.aiff");
        File.WriteAllBytes(path, aiff[..(aiff.Length / 2)]);
        AssertFails(path, "truncated AIFF");
    }

    [Fact]
    public void TruncatedFlac()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 2.0, 1), 16000, 16);
        var flac = File.ReadAllBytes(_files.Ffmpeg(wav, "x.flac", "-c:a", "flac"));
        var path = _files.PathOf("cut.flac");
        File.WriteAllBytes(path, flac[..(flac.Length / 2)]);
        Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
    }

    [Fact]
    public void RandomBytesWithAnAudioExtension()
    {
        var bytes = new byte[20000];
        new Random(7).NextBytes(bytes);
        var path = _files.PathOf("noise.wav");
        File.WriteAllBytes(path, bytes);
        AssertFails(path, "not a recognised audio format");
    }

    [Fact]
    public void TextFileWithAnMp3Extension()
    {
        var path = _files.PathOf("readme.mp3");
        File.WriteAllText(path, "this is not audio, just some text that someone named .mp3\n");
        AssertFails(path, "not a recognised audio format");
    }

    /// <summary>An ID3 tag makes it an MP3 to the sniffer; what follows is noise, not MPEG frames.</summary>
    [Fact]
    public void AnId3TagFollowedByNoise()
    {
        var bytes = new byte[20000];
        new Random(8).NextBytes(bytes);
        "ID3\u0004\0\0\0\0\0\0"u8.CopyTo(bytes);
        var path = _files.PathOf("junk.mp3");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
    }

    [Fact]
    public void UnsupportedWavCodec() =>
        AssertFails(_files.WriteRawWav("odd.wav", 0x7777, 1, 16000, 16, Pcm16(1600)), "unsupported codec");

    [Fact]
    public void VideoWithoutAudio()
    {
        var mp4 = _files.PathOf("silent-film.mp4");
        TestFiles.Run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "mpeg4", mp4);
        AssertFails(mp4, "no audio stream");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteSamples(float bad)
    {
        var x = TestFiles.Tones(16000, 0.2, 1);
        x[0, 1234] = bad;
        AssertFails(_files.WriteWav("nan.wav", x, 16000, 32, isFloat: true), "non-finite sample");
    }

    [Theory]
    [InlineData(0, 16000, 16, null, "channels")]
    [InlineData(1, 0, 16, null, "sample rate")]
    [InlineData(1, 2_000_000_000, 16, null, "sample rate")]
    [InlineData(1, 16000, 13, null, "13 bits")]
    [InlineData(2, 16000, 16, 3, "block align")]
    public void AbsurdHeaderValues(int channels, int rate, int bits, int? blockAlign, string reason)
    {
        var path = _files.WriteRawWav("absurd.wav", 1, channels, rate, bits, Pcm16(1600), blockAlignOverride: blockAlign);
        var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
        Assert.Equal(path, e.FilePath);
        Assert.True(e.Reason.Contains(reason, StringComparison.OrdinalIgnoreCase) || e.Reason.Contains("header", StringComparison.OrdinalIgnoreCase),
            $"reason '{e.Reason}' should mention '{reason}' or the header");
    }

    [Fact]
    public void StreamedWavWithUnknownDataSizeReadsToTheEnd()
    {
        var path = _files.WriteRawWav("streamed.wav", 1, 1, 16000, 16, Pcm16(1600), dataSizeOverride: 0xFFFFFFFF);
        Assert.Equal(1600, AudioDecoder.Decode(path).Length);
    }

    [Fact]
    public void DataChunkClaimingFourGigabytes()
    {
        var path = _files.WriteRawWav("huge.wav", 1, 1, 16000, 16, Pcm16(1600), dataSizeOverride: 0xFFFFFFF0);
        AssertFails(path, "truncated");
    }
}

[CollectionDefinition(nameof(ProcessEnvironmentCollection), DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

/// <summary>Changes a process-wide environment variable, so it runs alone.</summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class FfmpegMissingTests : IDisposable
{
    private readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    /// <summary>No format needs the ffmpeg executable where the libav helper is built: M4A decodes through it.</summary>
    [Fact]
    public void EveryFormatDecodesWithoutTheFfmpegExecutable()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 0.3, 1), 16000, 16);
        var m4a = _files.Ffmpeg(wav, "x.m4a", "-c:a", "aac");
        var flac = _files.Ffmpeg(wav, "x.flac", "-c:a", "flac");
        var mp3 = _files.Ffmpeg(wav, "x.mp3", "-c:a", "libmp3lame");
        var opus = _files.Ffmpeg(wav, "x.opus", "-c:a", "libopus");
        var aiff = _files.Ffmpeg(wav, "x.aiff", "-c:a", "pcm_s16be");
        Environment.SetEnvironmentVariable(FfmpegDecoder.ExecutableVariable, "/nonexistent/ffmpeg");
        try
        {
            Assert.True(AvDecoder.HelperBuilt, "actortraining-avdecode is not beside the test assembly (see Compute.csproj)");
            foreach (var path in new[] { wav, flac, mp3, opus, aiff })
                Assert.Equal(4800, AudioDecoder.Decode(path).Length);
            Assert.InRange(AudioDecoder.Decode(m4a).Length, 4800, 4800 + 1024 / 3); // AAC may keep part of its last frame's padding
        }
        finally { Environment.SetEnvironmentVariable(FfmpegDecoder.ExecutableVariable, null); }
    }

    /// <summary>Where the shim is missing, a format that then needs the executable says so by name.</summary>
    [Fact]
    public void MissingFfmpegIsAClearErrorWhereItIsNeeded()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 0.3, 1), 16000, 16);
        var m4a = _files.Ffmpeg(wav, "x.m4a", "-c:a", "aac");
        Environment.SetEnvironmentVariable(FfmpegDecoder.ExecutableVariable, "/nonexistent/ffmpeg");
        AvDecoder.Disabled = true;
        try
        {
            var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(m4a));
            Assert.Contains("needs ffmpeg", e.Reason);
            Assert.Contains("/nonexistent/ffmpeg", e.Reason);
            Assert.Equal(4800, AudioDecoder.Decode(wav).Length);
        }
        finally
        {
            AvDecoder.Disabled = false;
            Environment.SetEnvironmentVariable(FfmpegDecoder.ExecutableVariable, null);
        }
    }
}
