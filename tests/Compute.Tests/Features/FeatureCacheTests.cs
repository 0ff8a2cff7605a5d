using ActorTraining.Compute.Features;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Features;

/// <summary>
/// The feature cache on real WAV files: a miss computes and stores, a hit serves the computed bytes; an edited clip, a
/// damaged entry (a flipped byte, a truncated file) and a full cache all fall back to computing the clip, so what a
/// caller gets never depends on the cache's state; float16 halves an entry and rounds cached and computed fbanks alike.
/// </summary>
public sealed class FeatureCacheTests(ITestOutputHelper output) : IDisposable
{
    readonly TestFiles _files = new();
    static readonly FbankOptions Front = new(FrameShiftMs: 10, MelBins: 64);

    public void Dispose() => _files.Dispose();

    string Clip(string name, double seconds, int channels = 1) => _files.WriteWav(name, TestFiles.Tones(22050, seconds, channels), 22050, 16);

    (ClipFeatures Features, FeatureCache Cache) Cached(FeaturePrecision precision = FeaturePrecision.Float32, long maxBytes = 1L << 30)
    {
        var cache = FeatureCache.For(new FeatureCacheSettings(_files.PathOf($"cache-{precision}-{maxBytes}"), precision, maxBytes));
        return (new ClipFeatures(Front, maxSeconds: 3, cache), cache);
    }

    static CachedFbank Uncached(string path) => new ClipFeatures(Front, maxSeconds: 3, cache: null).Of(path);

    [Fact]
    public void AMissComputesAndStoresAndAHitServesTheSameBytes()
    {
        var clip = Clip("a.wav", 1.3);
        var (features, cache) = Cached();
        var computed = features.Of(clip);
        var served = features.Of(clip);
        Assert.Equal((0L, 1L, 0L, 1L), (cache.Statistics.Hits - 1, cache.Statistics.Misses, cache.Statistics.Corrupt, cache.Statistics.Hits));
        var plain = Uncached(clip);
        Assert.Equal(plain.Values, computed.Values);
        Assert.Equal(plain.Values, served.Values);
        Assert.Equal((plain.Frames, plain.Samples), (served.Frames, served.Samples));
        Assert.Equal(cache.EntryBytes(plain.Frames, 64), new FileInfo(cache.PathOf(Key(clip))).Length);
        output.WriteLine($"{plain.Frames} frames × 64 mel: {cache.EntryBytes(plain.Frames, 64)} bytes on disk");
    }

    static FeatureKey Key(string path) => new(Path.GetFullPath(path), Front.FrameShiftMs, Front.MelBins, 3);

    [Fact]
    public void AnEditedClipIsComputedAgainNotServedStale()
    {
        var clip = Clip("b.wav", 1.0);
        var (features, cache) = Cached();
        var before = features.Of(clip);
        // the same length, other content (a stereo file of half the frames has the same byte count), a later modification time
        _files.WriteWav("b.wav", TestFiles.Tones(22050, 0.5, channels: 2), 22050, 16);
        File.SetLastWriteTimeUtc(clip, File.GetLastWriteTimeUtc(clip).AddSeconds(2));
        var after = features.Of(clip);
        Assert.Equal(1, cache.Statistics.Stale);
        Assert.Equal(Uncached(clip).Values, after.Values);
        Assert.NotEqual(before.Values.Length, after.Values.Length);
        Assert.Equal(after.Values, features.Of(clip).Values); // the new entry replaced the old one
        Assert.Equal(1, cache.Statistics.Hits);
    }

    [Fact]
    public void ADamagedEntryIsDetectedDeletedAndComputedAgain()
    {
        var clip = Clip("c.wav", 1.0);
        var (features, cache) = Cached();
        var plain = Uncached(clip);
        features.Of(clip);
        var entry = cache.PathOf(Key(clip));

        var bytes = File.ReadAllBytes(entry);
        bytes[^100] ^= 0x10; // one bit of one value
        File.WriteAllBytes(entry, bytes);
        Assert.Equal(plain.Values, features.Of(clip).Values);
        Assert.Equal(1, cache.Statistics.Corrupt);
        // the deleted entry left the size count, the recomputed one entered it (a flip keeps the size the cache counted;
        // the torn and foreign files below change it behind the cache's back, which it cannot count)
        Assert.Equal(new FileInfo(entry).Length, cache.Statistics.Bytes);

        File.WriteAllBytes(entry, bytes[..(bytes.Length / 2)]); // a torn write
        Assert.Equal(plain.Values, features.Of(clip).Values);
        Assert.Equal(2, cache.Statistics.Corrupt);

        File.WriteAllBytes(entry, "not a cache entry"u8.ToArray());
        Assert.Equal(plain.Values, features.Of(clip).Values);
        Assert.Equal(3, cache.Statistics.Corrupt);

        Assert.Equal(plain.Values, features.Of(clip).Values); // stored again after each: this one is a hit
        Assert.Equal(1, cache.Statistics.Hits);
    }

    [Fact]
    public void AFullCacheStopsStoringSaysSoOnceAndTheRestIsComputed()
    {
        var first = Clip("d1.wav", 1.0);
        var second = Clip("d2.wav", 1.2);
        var frames = Uncached(first).Frames;
        var (features, cache) = Cached(maxBytes: 64 + frames * 64 * 4 + 100); // room for the first clip only
        var said = new List<string>();
        features.Of(first, said.Add);
        var computed = features.Of(second, said.Add);
        Assert.Equal(Uncached(second).Values, computed.Values);
        Assert.Equal(Uncached(second).Values, features.Of(second, said.Add).Values);
        Assert.Equal(Uncached(first).Values, features.Of(first, said.Add).Values);
        Assert.Equal((1L, 2L), (cache.Statistics.Hits, cache.Statistics.Refused));
        Assert.False(File.Exists(cache.PathOf(Key(second))));
        var message = Assert.Single(said);
        output.WriteLine(message);
        Assert.Contains("data.cache.max-gb", message);
        Assert.True(cache.Statistics.Bytes <= cache.Settings.MaxBytes);
    }

    [Fact]
    public void Float16HalvesTheEntryAndRoundsCachedAndComputedFbanksAlike()
    {
        var clip = Clip("e.wav", 1.0);
        var (features, cache) = Cached(FeaturePrecision.Float16);
        var computed = features.Of(clip);
        var served = features.Of(clip);
        var rounded = Uncached(clip).Values;
        FeatureCache.RoundToPrecision(rounded, FeaturePrecision.Float16);
        Assert.Equal(rounded, computed.Values);
        Assert.Equal(rounded, served.Values);
        Assert.Equal(64 + computed.Frames * 64 * 2, new FileInfo(cache.PathOf(Key(clip))).Length);
        var worst = Uncached(clip).Values.Zip(served.Values, (a, b) => Math.Abs(a - b) / Math.Max(1e-3f, Math.Abs(a))).Max();
        output.WriteLine($"float16: largest relative rounding {worst:E2}");
        Assert.InRange(worst, 0, 1e-3);
    }

    [Fact]
    public void ThreadsStoringAndReadingOneClipAllGetItsBytes()
    {
        var clip = Clip("f.wav", 1.0);
        var cache = Cached().Cache;
        var plain = Uncached(clip).Values;
        var results = new float[8][];
        Parallel.For(0, 8, i => { var f = new ClipFeatures(Front, 3, cache); for (int k = 0; k < 5; k++) results[i] = f.Of(clip).Values; });
        Assert.All(results, r => Assert.Equal(plain, r));
        Assert.Equal(0, cache.Statistics.Corrupt);
        Assert.Empty(Directory.EnumerateFiles(cache.Settings.Directory, "*.tmp", SearchOption.AllDirectories));
    }
}
