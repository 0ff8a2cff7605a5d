using System.Diagnostics;
using ActorTraining.Compute.Audio;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Audio;

/// <summary>
/// The formats left to libavformat/libavcodec decode in the helper process (actortraining-avdecode) to the samples the
/// ffmpeg executable gives from the same libraries, at the stream's own rate and channels; windows are the whole
/// decode's slices.
/// </summary>
public sealed class AvDecoderTests(ITestOutputHelper output) : IDisposable
{
    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    [Theory]
    [InlineData("m4a", 44100, 2, new[] { "-c:a", "aac", "-b:a", "128k" })]
    [InlineData("m4a", 16000, 1, new[] { "-c:a", "alac" })]
    [InlineData("webm", 48000, 2, new[] { "-c:a", "libopus" })]          // Opus in Matroska, not Ogg
    [InlineData("wma", 22050, 1, new[] { "-c:a", "wmav2" })]
    [InlineData("ac3", 48000, 6, new[] { "-c:a", "ac3" })]
    [InlineData("wav", 16000, 1, new[] { "-c:a", "adpcm_ms" })]          // compressed WAV payload
    [InlineData("aifc", 16000, 2, new[] { "-c:a", "pcm_s16le" })]        // AIFF-C "sowt", which NAudio refuses
    public void DecodesToTheExecutablesSamples(string ext, int rate, int channels, string[] codec)
    {
        Assert.True(AvDecoder.HelperBuilt, "actortraining-avdecode is not beside the test assembly (see Compute.csproj)");
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(rate, 1.3, channels), rate, 16);
        var path = _files.Ffmpeg(wav, $"x.{ext}", [.. codec, "-ar", rate.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var ours = AvDecoder.Decode(path, new DecodeOptions())!;
        var ffmpeg = TestFiles.FfmpegSamples(path, channels, rate);
        output.WriteLine($"{ext} {string.Join(' ', codec)}: ours {ours.Frames} frames × {ours.Channels} at {ours.SampleRate} Hz, ffmpeg {ffmpeg.Length / channels}");
        Assert.Equal(rate, ours.SampleRate);
        Assert.Equal(channels, ours.Channels);
        Assert.Equal(ffmpeg.Length, ours.Interleaved.Length);
        if (ext != "ac3") // ffmpeg reorders 5.1 channels into its own layout; the decoded values are the same set
            Assert.Equal(0, MaxAbsDiff(ours.Interleaved, ffmpeg));
        Assert.InRange(AudioDecoder.Decode(path).Length, ours.Frames * 16000L / rate - 1, ours.Frames * 16000L / rate + 1); // mono, resampled
    }

    /// <summary>A window is the same slice as the whole decode, from its first sample: the seek lands half a second early, so the decoder's overlap is warm.</summary>
    [Fact]
    public void AWindowSeeksAndTrimsByTimestamps()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(44100, 10.0, 1), 44100, 16);
        var m4a = _files.Ffmpeg(wav, "long.m4a", "-c:a", "aac", "-b:a", "128k");
        var whole = AvDecoder.Decode(m4a, new DecodeOptions())!;
        var window = AvDecoder.Decode(m4a, new DecodeOptions(StartSeconds: 6.3, MaxSeconds: 2.0))!;
        Assert.Equal(88200, window.Frames);
        int from = (int)Math.Round(6.3 * 44100);
        double error = MaxAbsDiff(window.Interleaved, whole.Interleaved.AsSpan(from, 88200));
        output.WriteLine($"window 6.3 s + 2 s against the whole decode: max difference {error:E2}");
        Assert.InRange(error, 0, 1e-6);
        var tail = AvDecoder.Decode(m4a, new DecodeOptions(StartSeconds: 9.5))!;
        Assert.InRange(tail.Frames, whole.Frames - (int)Math.Round(9.5 * 44100) - 1, whole.Frames - (int)Math.Round(9.5 * 44100) + 1);
    }
}

/// <summary>
/// A helper that dies or hangs on a file costs that clip, named, and the next clip gets a new helper. Changes the
/// process-wide timeout and kills this process's helpers, so it runs alone.
/// </summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class AvDecoderHelperTests : IDisposable
{
    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    /// <summary>A named pipe nobody writes to: libavformat's open blocks on it, like a decoder stuck on a bad file.</summary>
    string StuckFile()
    {
        var fifo = _files.PathOf("stuck.m4a");
        TestFiles.Run("mkfifo", fifo);
        return fifo;
    }

    string GoodM4a()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 0.5, 1), 16000, 16);
        return _files.Ffmpeg(wav, "good.m4a", "-c:a", "aac");
    }

    [Fact]
    public void AHelperKilledInsideARequestCostsThatClip()
    {
        var good = GoodM4a();
        Assert.NotNull(AvDecoder.Decode(good, new DecodeOptions())); // a helper is running and idle
        var stuck = StuckFile();
        var decoding = Task.Run(() => Assert.Throws<AudioDecodeException>(() => AvDecoder.Decode(stuck, new DecodeOptions())));
        Thread.Sleep(1000); // the request is in the helper (bounded: the decode itself cannot finish)
        TestFiles.Run("pkill", "-KILL", "-P", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "-f", "actortraining-avdecode");
        Assert.True(decoding.Wait(TimeSpan.FromSeconds(30)), "the decode did not end after its helper was killed");
        Assert.Contains("ended while decoding", decoding.Result.Reason);
        Assert.Equal(Path.GetFullPath(stuck), decoding.Result.FilePath);
        Assert.InRange(AudioDecoder.Decode(good).Length, 8000, 8400); // new helpers (the idle ones were killed too)
    }

    [Fact]
    public void AHelperStuckOnAFileIsStoppedAfterTheTimeout()
    {
        var good = GoodM4a();
        var stuck = StuckFile();
        AvDecoder.Timeout = TimeSpan.FromSeconds(2);
        try
        {
            var watch = Stopwatch.StartNew();
            var e = Assert.Throws<AudioDecodeException>(() => AvDecoder.Decode(stuck, new DecodeOptions()));
            Assert.Contains("more than 2 s", e.Reason);
            Assert.InRange(watch.Elapsed.TotalSeconds, 1.9, 30);
            Assert.NotNull(AvDecoder.Decode(good, new DecodeOptions()));
        }
        finally { AvDecoder.Timeout = TimeSpan.FromMinutes(5); }
    }
}
