using System.Text.Json;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Features;

/// <summary>
/// Our decoder + fbank against torchaudio's kaldi fbank on committed fixtures (tests/fixtures/fbank/make_fixtures.py).
/// Two references per fixture: torchaudio on the float32 waveform (what AST runs) and the same torchaudio code on
/// the float64 waveform (no float32 FFT rounding).
/// - Every cell above −10 log-mel (power > 4.5e-5, i.e. everything but near-empty bands): ≤ 1e-3 on every fixture,
///   float32 and float64 compute alike.
/// - All cells, float64 compute vs torchaudio float64: ≤ 1e-3 for 16 kHz sources. Resampled sources ≤ 1e-2:
///   both sides resample in float32 (torchaudio's conv1d vs ours), and after 8 kHz → 16 kHz upsampling the
///   4–8 kHz bands hold only resampler rounding noise near the log floor (measured 6.5e-3 there).
/// - All cells, float32 compute vs torchaudio float32: below −10 log-mel float32 FFT rounding dominates (MKL in our
///   libtorch 2.10, pocketfft in Debian's torch 1.13); torchaudio's own float32-vs-float64 error reaches 1.7e-2
///   there (manifest: torchaudio_f32_error), so the bound is the all-cells bound above + 1.5 × that error.
/// </summary>
public sealed class FbankParityTests(ITestOutputHelper output)
{
    public const double Tolerance = 1e-3, ResampledTolerance = 1e-2, FloorLogMel = -10;
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "fbank");

    public sealed record Fixture(string name, string wav, int source_rate, bool resampled, double frame_shift_ms, int mel_bins,
        string npy, string npy_f64, int frames, double torchaudio_f32_error);

    public static IReadOnlyList<Fixture> Fixtures()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "manifest.json")));
        return doc.RootElement.GetProperty("fixtures").Deserialize<List<Fixture>>()!;
    }

    public static IEnumerable<object[]> Cases() => Fixtures().Select(f => new object[] { f.npy });

    /// <summary>Max |actual − expected| over all cells, and over cells whose expected value is above FloorLogMel.</summary>
    private static (double All, double AboveFloor) MaxAbsDiff(torch.Tensor actual, float[] expected, long[] shape)
    {
        Assert.Equal(shape, actual.shape);
        var a = actual.data<float>().ToArray();
        double all = 0, above = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - expected[i]);
            all = Math.Max(all, d);
            if (expected[i] > FloorLogMel) above = Math.Max(above, d);
        }
        return (all, above);
    }

    private (double All, double AboveFloor) Compare(Fixture f, bool float64)
    {
        var (expected, shape) = NpyFile.Read(Path.Combine(Folder, float64 ? f.npy_f64 : f.npy));
        var wave = AudioDecoder.Decode(Path.Combine(Folder, f.wav));
        var extractor = new FbankExtractor(new FbankOptions(f.frame_shift_ms, f.mel_bins), float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32);
        using var features = extractor.Compute(wave);
        var err = MaxAbsDiff(features, expected, shape);
        output.WriteLine($"{(float64 ? "f64" : "f32")} {f.npy}: frames {shape[0]}, max |Δ| all {err.All:E2}, above {FloorLogMel} {err.AboveFloor:E2}, torchaudio f32 self-error {f.torchaudio_f32_error:E2}");
        return err;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64MatchesTorchaudioFloat64(string npy)
    {
        var f = Fixtures().Single(x => x.npy == npy);
        var err = Compare(f, float64: true);
        Assert.True(err.AboveFloor <= Tolerance, $"{npy}: max |Δ| above {FloorLogMel} log-mel {err.AboveFloor} over {Tolerance}");
        double tolerance = f.resampled ? ResampledTolerance : Tolerance;
        Assert.True(err.All <= tolerance, $"{npy}: max |Δ| {err.All} over {tolerance}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32MatchesTorchaudioFloat32(string npy)
    {
        var f = Fixtures().Single(x => x.npy == npy);
        var err = Compare(f, float64: false);
        Assert.True(err.AboveFloor <= Tolerance, $"{npy}: max |Δ| above {FloorLogMel} log-mel {err.AboveFloor} over {Tolerance}");
        double floorTolerance = (f.resampled ? ResampledTolerance : Tolerance) + 1.5 * f.torchaudio_f32_error;
        Assert.True(err.All <= floorTolerance, $"{npy}: max |Δ| {err.All} over {floorTolerance} (torchaudio's own f32 error {f.torchaudio_f32_error})");
    }

    /// <summary>
    /// A 19 ms tick (311 samples at 16 kHz, under one 400-sample window) gives one frame at every frame shift: the
    /// fbank of the clip with its mean removed and zeros appended to one window, which kaldi's own framing of that
    /// window computes (the padded window's mean is already 0, so the second mean removal changes nothing).
    /// </summary>
    [Theory]
    [InlineData(10)]
    [InlineData(20)]
    [InlineData(40)]
    public void AClipShorterThanOneWindowIsZeroPaddedToOneFrame(double shift)
    {
        var random = new Random(19);
        var tick = Enumerable.Range(0, 311).Select(i => (float)(Math.Exp(-i / 60.0) * Math.Sin(i * 0.7) + 0.05 * random.NextDouble())).ToArray();
        float mean = (float)tick.Average(x => (double)x);
        var padded = new float[400];
        for (int i = 0; i < tick.Length; i++) padded[i] = tick[i] - mean;
        var extractor = new FbankExtractor(new FbankOptions(shift), ScalarType.Float64);
        using var short_ = extractor.Compute(tick);
        using var explicitPad = extractor.Compute(padded);
        Assert.Equal([1L, 128L], short_.shape);
        Assert.True(extractor.IsPadded(tick.Length) && !extractor.IsPadded(400) && !extractor.IsPadded(0));
        var a = short_.data<float>().ToArray();
        var b = explicitPad.data<float>().ToArray();
        double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst <= 1e-4, $"padded tick differs from the explicitly padded window by {worst}");
        Assert.True(a.Max() > a.Min() + 10, "the tick's frame is not silence");
    }

    [Fact]
    public void AnEmptyClipGivesNoFrames()
    {
        using var f = new FbankExtractor(new FbankOptions()).Compute([]);
        Assert.Equal([0L, 128L], f.shape);
    }

    [Fact]
    public void TenSecondsGiveTheReferenceFrameCounts()
    {
        foreach (var (shift, frames) in new[] { (10.0, 998), (20.0, 499), (30.0, 333), (40.0, 250) })
        {
            using var f = new FbankExtractor(new FbankOptions(shift)).Compute(new float[160000]);
            Assert.Equal(frames, f.shape[0]);
        }
    }

    [Fact]
    public void SharedExtractorGivesTheSameResultsFromManyThreads()
    {
        var f = Fixtures().First(x => x.name == "full_scale_noise" && x.frame_shift_ms == 10);
        var wave = AudioDecoder.Decode(Path.Combine(Folder, f.wav));
        var extractor = new FbankExtractor(new FbankOptions());
        using var reference = extractor.Compute(wave);
        var expected = reference.data<float>().ToArray();
        Parallel.For(0, 16, _ =>
        {
            using var t = extractor.Compute(wave);
            Assert.Equal(expected, t.data<float>().ToArray());
        });
    }
}
