using System.Buffers.Binary;
using ActorTraining.Compute.Audio;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Audio;

/// <summary>
/// Ogg Opus decodes in the process (Concentus) to the samples of the reference decoder, libopus as ffmpeg runs it
/// (`-c:a libopus` before the input): the same count (pre-skip and end trimming as ffmpeg does them), no shift, the
/// header's output gain applied, multistream files, windows by granule seek; broken files are named; a chained file is
/// left to ffmpeg. ffmpeg's own native Opus decoder is not the oracle: on 5.1 files it differs from libopus by 46–65 %
/// relative per channel (measured), while libopus and Concentus agree.
/// </summary>
public sealed class OpusDecoderTests(ITestOutputHelper output) : IDisposable
{
    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    static double RelativeError(ReadOnlySpan<float> ours, ReadOnlySpan<float> reference)
    {
        double error = 0, energy = 0;
        for (int i = 0; i < reference.Length; i++) { error += Math.Pow(ours[i] - reference[i], 2); energy += reference[i] * (double)reference[i]; }
        return Math.Sqrt(error / energy);
    }

    static float[] MeanOfChannels(float[] interleaved, int channels)
    {
        var mono = new float[interleaved.Length / channels];
        for (int i = 0; i < mono.Length; i++)
        {
            float sum = 0;
            for (int c = 0; c < channels; c++) sum += interleaved[i * channels + c];
            mono[i] = sum / channels;
        }
        return mono;
    }

    internal string Opus(int sourceRate, double seconds, int channels, string bitrate = "96k")
    {
        var wav = _files.WriteWav($"noise-{sourceRate}-{channels}.wav", TestFiles.Noise(sourceRate, seconds, channels, seed: 9), sourceRate, 16);
        return _files.Ffmpeg(wav, $"noise-{sourceRate}-{channels}-{bitrate}.opus", "-c:a", "libopus", "-b:a", bitrate);
    }

    /// <summary>Where our channel c lands in ffmpeg's output: Opus keeps Vorbis order (L C R RL RR LFE for 5.1), ffmpeg reorders to FL FR FC LFE BL BR.</summary>
    static int[] FfmpegChannelOf(int channels) => channels == 6 ? [0, 2, 1, 4, 5, 3] : [.. Enumerable.Range(0, channels)];

    /// <summary>Our interleaved channels against libopus' as ffmpeg runs it, channel by channel; the worst relative error.</summary>
    internal double WorstChannelError(string path, int channels, out int ourFrames, out int ffmpegFrames)
    {
        DecodedAudio ours;
        using (var stream = File.OpenRead(path)) ours = OpusDecoder.Decode(path, stream, new DecodeOptions(SampleRate: 48000))!;
        var ffmpeg = TestFiles.FfmpegSamples(path, channels, 48000, decoder: "libopus");
        Assert.Equal(channels, ours.Channels);
        ourFrames = ours.Frames;
        ffmpegFrames = ffmpeg.Length / channels;
        var map = FfmpegChannelOf(channels);
        double worst = 0;
        for (int c = 0; c < channels; c++)
        {
            var a = new float[Math.Min(ourFrames, ffmpegFrames)];
            var b = new float[a.Length];
            for (int i = 0; i < a.Length; i++) { a[i] = ours.Interleaved[i * channels + c]; b[i] = ffmpeg[i * channels + map[c]]; }
            worst = Math.Max(worst, RelativeError(a, b));
        }
        return worst;
    }

    [Theory]
    [InlineData(48000, 1.0, 1, "96k")]
    [InlineData(16000, 2.37, 1, "16k")]  // ffmpeg's libopus encoder resamples to 48 kHz; an odd length tests the end trimming
    [InlineData(44100, 1.5, 2, "96k")]
    [InlineData(48000, 1.0, 6, "256k")]  // 5.1: channel mapping family 1, two coupled streams and two mono ones
    public void AnOpusFileHasLibopusSamples(int sourceRate, double seconds, int channels, string bitrate)
    {
        var path = Opus(sourceRate, seconds, channels, bitrate);
        double error = WorstChannelError(path, channels, out int ours, out int ffmpeg);
        output.WriteLine($"{sourceRate} Hz × {channels} at {bitrate} through {OpusDecoder.Implementation}: ours {ours} frames, ffmpeg {ffmpeg}; worst channel's relative error {error:E2}");
        Assert.StartsWith("libopus", OpusDecoder.Implementation); // scripts/ensure-machine installs libopus0
        Assert.Equal(ffmpeg, ours);
        Assert.Equal(0, error); // the same library on the same packets: bit-identical (measured)
    }

    /// <summary>A window seeks by granule positions with an 80 ms pre-roll; its samples are the whole decode's, up to the pre-roll's convergence.</summary>
    [Fact]
    public void AWindowIsTheSliceOfTheWholeDecode()
    {
        var path = Opus(48000, 20.0, 1);
        var whole = AudioDecoder.Decode(path, new DecodeOptions(SampleRate: 48000));
        var window = AudioDecoder.Decode(path, new DecodeOptions(SampleRate: 48000, StartSeconds: 12.3, MaxSeconds: 2.0));
        Assert.Equal(96000, window.Length);
        double error = RelativeError(window, whole.AsSpan(590400, 96000));
        output.WriteLine($"window 12.3 s + 2 s against the whole decode: relative error {error:E2}");
        Assert.InRange(error, 0, 1e-3);
        var tail = AudioDecoder.Decode(path, new DecodeOptions(SampleRate: 48000, StartSeconds: 19.5));
        Assert.Equal(whole.Length - 936000, tail.Length);
    }

    /// <summary>RFC 7845's output gain (Q7.8 dB in OpusHead) scales every sample, as ffmpeg applies it: +6.0206 dB doubles them.</summary>
    [Fact]
    public void TheHeaderOutputGainIsApplied()
    {
        var path = Opus(48000, 1.0, 1);
        var plain = AudioDecoder.Decode(path, new DecodeOptions(SampleRate: 48000));
        var bytes = File.ReadAllBytes(path);
        int head = bytes.AsSpan().IndexOf("OpusHead"u8);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(head + 16), (short)Math.Round(20 * Math.Log10(2) * 256));
        RewritePageCrc(bytes, 0);
        var louder = _files.PathOf("louder.opus");
        File.WriteAllBytes(louder, bytes);
        var doubled = AudioDecoder.Decode(louder, new DecodeOptions(SampleRate: 48000));
        Assert.Equal(plain.Length, doubled.Length);
        Assert.InRange(RelativeError(doubled, plain.Select(v => 2 * v).ToArray()), 0, 1e-3); // Q7.8 rounds the gain: 2.0003
        Assert.InRange(RelativeError(TestFiles.FfmpegSamples(louder, 1, 48000, decoder: "libopus"), plain.Select(v => 2 * v).ToArray()), 0, 2e-3);
    }

    [Fact]
    public void AFlippedByteFailsTheChecksumByName()
    {
        var bytes = File.ReadAllBytes(Opus(48000, 2.0, 1));
        bytes[bytes.Length / 2] ^= 0x10;
        var path = _files.PathOf("flipped.opus");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
        Assert.Contains("corrupt Ogg", e.Reason);
    }

    [Fact]
    public void ATruncatedFileIsNamed()
    {
        var bytes = File.ReadAllBytes(Opus(48000, 2.0, 1));
        var path = _files.PathOf("cut.opus");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2 + 7)]);
        var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
        Assert.Contains("truncated", e.Reason);
    }

    /// <summary>Two Opus streams one after the other (a chained file): ffmpeg decodes both, so it gets the file.</summary>
    [Fact]
    public void AChainedFileIsLeftToFfmpeg()
    {
        var a = File.ReadAllBytes(Opus(48000, 1.0, 1));
        var b = File.ReadAllBytes(Opus(48000, 0.5, 2));
        var path = _files.PathOf("chained.opus");
        File.WriteAllBytes(path, [.. a, .. b]);
        var ours = AudioDecoder.Decode(path, new DecodeOptions(SampleRate: 48000));
        Assert.Equal(TestFiles.FfmpegSamples(path, 1, 48000).Length, ours.Length);
        Assert.InRange(ours.Length, 48000 + 24000 - 10, 48000 + 24000 + 10);
    }

    /// <summary>Recomputes the CRC-32 of the Ogg page starting at <paramref name="at"/> (polynomial 0x04C11DB7, unreflected).</summary>
    static void RewritePageCrc(byte[] file, int at)
    {
        int segments = file[at + 26], length = 27 + segments;
        for (int i = 0; i < segments; i++) length += file[at + 27 + i];
        file.AsSpan(at + 22, 4).Clear();
        uint crc = 0;
        foreach (var b in file.AsSpan(at, length))
        {
            crc ^= (uint)b << 24;
            for (int k = 0; k < 8; k++) crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at + 22), crc);
    }
}

/// <summary>Without libopus, Concentus' managed decoder: close to libopus at usual bitrates, and the same count.</summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class ManagedOpusDecoderTests(ITestOutputHelper output) : IDisposable
{
    readonly OpusDecoderTests _files = new(output);
    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(1, "96k", 1e-3)]
    [InlineData(6, "256k", 1e-3)]
    [InlineData(1, "16k", 0.1)] // SILK at low rates: Concentus ports an older libopus (measured 4.7 %)
    public void ConcentusDecodesCloseToLibopus(int channels, string bitrate, double bound)
    {
        var path = _files.Opus(48000, 1.0, channels, bitrate);
        OpusDecoder.ManagedOnly = true;
        try
        {
            Assert.DoesNotContain("libopus", OpusDecoder.Implementation);
            double error = _files.WorstChannelError(path, channels, out int ours, out int ffmpeg);
            output.WriteLine($"{channels} channels at {bitrate} through {OpusDecoder.Implementation}: worst channel's relative error {error:E2}");
            Assert.Equal(ffmpeg, ours);
            Assert.InRange(error, 0, bound);
        }
        finally { OpusDecoder.ManagedOnly = false; }
    }
}
