using ActorTraining.Compute.Audio;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Audio;

/// <summary>
/// FLAC is decoded in the process by libFLAC (no ffmpeg process per clip): the samples are ffmpeg's own decode of the
/// same file bit for bit (16 and 24 bits, mono and stereo), a start offset and a maximum length cut the same samples,
/// and a damaged stream is an error naming the file.
/// </summary>
public sealed class FlacDecoderTests(ITestOutputHelper output) : IDisposable
{
    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(44100, 16, 2, "s16")]
    [InlineData(48000, 24, 1, "s32")]
    [InlineData(16000, 16, 1, "s16")]
    public void SamplesAreFfmpegsBitForBit(int sampleRate, int bits, int channels, string sampleFormat)
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(sampleRate, 1.3, channels), sampleRate, bits);
        var flac = _files.Ffmpeg(wav, $"x{sampleRate}.flac", "-c:a", "flac", "-sample_fmt", sampleFormat);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var audio = FlacDecoder.Decode(flac, new DecodeOptions());
        output.WriteLine($"{sampleRate} Hz {bits} bit × {channels}: {audio?.Frames} frames in {started.Elapsed.TotalMilliseconds:F1} ms in the process");
        Assert.NotNull(audio); // libFLAC is there (scripts/ensure-machine)
        Assert.Equal((channels, sampleRate), (audio.Channels, audio.SampleRate));
        Assert.Equal(TestFiles.FfmpegSamples(flac, channels), audio.Interleaved);
    }

    [Fact]
    public void AStartAndAMaximumLengthCutWhatFfmpegCuts()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 3.0, 1), 16000, 16);
        var flac = _files.Ffmpeg(wav, "x.flac", "-c:a", "flac");
        var audio = FlacDecoder.Decode(flac, new DecodeOptions(StartSeconds: 1.25, MaxSeconds: 0.5))!;
        var expected = TestFiles.FfmpegSamples(flac, 1)[20000..28000];
        Assert.Equal(expected, audio.Interleaved);
        Assert.Empty(FlacDecoder.Decode(flac, new DecodeOptions(StartSeconds: 5))!.Interleaved);
        // through the front door: 16 kHz mono already, so these are the samples the model sees
        Assert.Equal(expected, AudioDecoder.Decode(flac, new DecodeOptions(StartSeconds: 1.25, MaxSeconds: 0.5)));
    }

    [Fact]
    public void AFlippedByteInTheAudioIsACorruptFlacNamingTheFile()
    {
        var wav = _files.WriteWav("src.wav", TestFiles.Tones(16000, 2.0, 1), 16000, 16);
        var bytes = File.ReadAllBytes(_files.Ffmpeg(wav, "x.flac", "-c:a", "flac"));
        bytes[bytes.Length / 2] ^= 0x5A;
        var path = _files.PathOf("flipped.flac");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path));
        output.WriteLine(e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("FLAC", e.Message);
    }
}
