using ActorTraining.Compute.Features;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Features;

/// <summary>
/// The pack feature cache on real WAV files: a miss computes and stores, a hit serves the computed bytes; an edited clip,
/// a damaged record (a flipped bit in its payload or header), a torn pack tail left by a dead writer and foreign files
/// all fall back to computing the clip, so what a caller gets never depends on the cache's state; past the limit whole
/// packs are evicted in least-recently-used order, never one a reader holds; float16 halves a record and rounds cached
/// and computed fbanks alike; a merged index serves a reopened folder; an older per-clip cache is ignored with one line.
/// </summary>
public sealed class FeatureCacheTests(ITestOutputHelper output) : IDisposable
{
    readonly TestFiles _files = new();
    readonly List<FeatureCache> _open = [];
    static readonly FbankOptions Front = new(FrameShiftMs: 10, MelBins: 64);

    public void Dispose()
    {
        foreach (var cache in _open) cache.Dispose();
        _files.Dispose();
    }

    string Clip(string name, double seconds, int channels = 1) => _files.WriteWav(name, TestFiles.Tones(22050, seconds, channels), 22050, 16);

    FeatureCache Open(string folder = "cache", FeaturePrecision precision = FeaturePrecision.Float32, long maxBytes = 1L << 30)
    {
        var cache = FeatureCache.OpenPrivate(new FeatureCacheSettings(_files.PathOf(folder), precision, maxBytes));
        _open.Add(cache);
        return cache;
    }

    static ClipFeatures Features(FeatureCache cache) => new(Front, maxSeconds: 3, cache);

    static CachedFbank Uncached(string path) => new ClipFeatures(Front, maxSeconds: 3, cache: null).Of(path);

    static FeatureKey Key(string path) => new(Path.GetFullPath(path), Front.FrameShiftMs, Front.MelBins, 3);

    string[] FilesIn(FeatureCache cache) => Directory.GetFiles(cache.Settings.Directory, "*", SearchOption.AllDirectories);

    static void FlipByte(string path, long offset)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var one = new byte[1];
        RandomAccess.Read(handle, one, offset);
        one[0] ^= 0x10;
        RandomAccess.Write(handle, one, offset);
    }

    [Fact]
    public void AMissComputesAndStoresAndAHitServesTheSameBytes()
    {
        var clip = Clip("a.wav", 1.3);
        var cache = Open();
        var features = Features(cache);
        var computed = features.Of(clip);
        var served = features.Of(clip);
        Assert.Equal((1L, 1L, 0L), (cache.Statistics.Hits, cache.Statistics.Misses, cache.Statistics.Corrupt));
        var plain = Uncached(clip);
        Assert.Equal(plain.Values, computed.Values);
        Assert.Equal(plain.Values, served.Values);
        Assert.Equal((plain.Frames, plain.Samples), (served.Frames, served.Samples));
        var pack = Assert.Single(Directory.GetFiles(Path.Combine(cache.Settings.Directory, "packs"), "*.pack"));
        Assert.Equal(cache.EntryBytes(plain.Frames, 64), new FileInfo(pack).Length + new FileInfo(Path.ChangeExtension(pack, ".idx")).Length);
        Assert.Equal(cache.EntryBytes(plain.Frames, 64), cache.Statistics.Bytes); // the folder's count is what it holds
        output.WriteLine($"{plain.Frames} frames × 64 mel: {cache.EntryBytes(plain.Frames, 64)} bytes; files: {string.Join(", ", FilesIn(cache).Select(Path.GetFileName))}");
    }

    [Fact]
    public void AnEditedClipIsComputedAgainNotServedStale()
    {
        var clip = Clip("b.wav", 1.0);
        var cache = Open();
        var features = Features(cache);
        var before = features.Of(clip);
        // the same length, other content (a stereo file of half the frames has the same byte count), a later modification time
        _files.WriteWav("b.wav", TestFiles.Tones(22050, 0.5, channels: 2), 22050, 16);
        File.SetLastWriteTimeUtc(clip, File.GetLastWriteTimeUtc(clip).AddSeconds(2));
        var after = features.Of(clip);
        Assert.Equal(1, cache.Statistics.Stale);
        Assert.Equal(Uncached(clip).Values, after.Values);
        Assert.NotEqual(before.Values.Length, after.Values.Length);
        Assert.Equal(after.Values, features.Of(clip).Values); // the new record supersedes the old one
        Assert.Equal(1, cache.Statistics.Hits);
        Assert.Equal(after.Values, Features(Open()).Of(clip).Values); // and in a process that opens the folder later
    }

    [Fact]
    public void ADamagedRecordIsDetectedAndComputedAgain()
    {
        var clip = Clip("c.wav", 1.0);
        var cache = Open();
        var features = Features(cache);
        var plain = Uncached(clip);
        features.Of(clip);

        var (pack, offset, length) = cache.Locate(Key(clip))!.Value;
        FlipByte(pack, offset + length - 100); // one bit of one value
        Assert.Equal(plain.Values, features.Of(clip).Values);
        Assert.Equal(1, cache.Statistics.Corrupt);
        Assert.NotEqual(offset, cache.Locate(Key(clip))!.Value.Offset); // stored again, after the damaged one

        (pack, offset, _) = cache.Locate(Key(clip))!.Value;
        FlipByte(pack, offset + 30); // the header's shape
        Assert.Equal(plain.Values, features.Of(clip).Values);
        Assert.Equal(2, cache.Statistics.Corrupt);

        Assert.Equal(plain.Values, features.Of(clip).Values); // the third record is whole: a hit
        Assert.Equal(1, cache.Statistics.Hits);
        var other = Open(); // another process never serves the damaged records either
        Assert.Equal(plain.Values, Features(other).Of(clip).Values);
        Assert.Equal((1L, 0L), (other.Statistics.Hits, other.Statistics.Corrupt));
    }

    /// <summary>A writer died mid-record (its pack holds half a record past its index): the next process to open the folder
    /// cuts the tail where the torn record starts, keeps the whole records (one past the index, which it indexes), and
    /// computes the torn clip again.</summary>
    [Fact]
    public void ATornPackTailIsCutOnOpenAndWholeRecordsPastTheIndexAreKept()
    {
        var clips = new[] { Clip("t1.wav", 1.0), Clip("t2.wav", 1.1), Clip("t3.wav", 1.2) };
        var writer = Open("torn");
        foreach (var clip in clips) Features(writer).Of(clip);
        var (pack, _, _) = writer.Locate(Key(clips[0]))!.Value;
        var third = writer.Locate(Key(clips[2]))!.Value;
        writer.Dispose();
        var index = Path.ChangeExtension(pack, ".idx");
        using (var stream = new FileStream(index, FileMode.Open)) stream.SetLength(stream.Length - 2 * PackIndexEntry.Bytes); // t2 and t3 past the index
        using (var stream = new FileStream(pack, FileMode.Open)) stream.SetLength(third.Offset + third.Length / 2); // t3 torn

        var reader = Open("torn");
        Assert.Equal(third.Offset, new FileInfo(pack).Length);
        var features = Features(reader);
        Assert.All(clips, clip => Assert.Equal(Uncached(clip).Values, features.Of(clip).Values));
        Assert.Equal((2L, 1L, 0L), (reader.Statistics.Hits, reader.Statistics.Misses, reader.Statistics.Corrupt));
    }

    [Fact]
    public void ForeignFilesAreIgnoredAndAPackOverwrittenWithThemIsComputedAgain()
    {
        var clip = Clip("g.wav", 1.0);
        var writer = Open("foreign");
        Features(writer).Of(clip);
        var (pack, _, _) = writer.Locate(Key(clip))!.Value;
        writer.Dispose();
        File.WriteAllBytes(pack, "not a cache entry"u8.ToArray());
        var packs = Path.Combine(_files.PathOf("foreign"), "packs");
        File.WriteAllText(Path.Combine(packs, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(packs, "someone-1-ab-00001.idx"), "not an index either");
        File.WriteAllText(Path.Combine(packs, "notes.pack"), "a pack of no writer's, longer than its index");
        File.WriteAllText(Path.Combine(packs, "notes.idx"), "");
        File.WriteAllText(Path.Combine(_files.PathOf("foreign"), "merged-00000009.idx"), "nor a merged index");

        var reader = Open("foreign");
        Assert.Equal(Uncached(clip).Values, Features(reader).Of(clip).Values);
        Assert.Equal(Uncached(clip).Values, Features(reader).Of(clip).Values);
        Assert.Equal((1L, 1L), (reader.Statistics.Hits, reader.Statistics.Misses + reader.Statistics.Corrupt));
        Assert.True(File.Exists(Path.Combine(packs, "notes.txt")));
    }

    /// <summary>Past the limit the least recently used packs go, whole; the folder never holds more than the limit; the
    /// newest records stay; a pack another reader holds open is passed over, and when every pack is held, the store is
    /// refused and said once.</summary>
    [Fact]
    public void PastTheLimitWholePacksAreEvictedLeastRecentlyUsedFirstNeverOneAReaderHolds()
    {
        const int frames = 1000; // 256 kB a record: four to a 1 MB pack
        var cache = Open("full", maxBytes: 4L << 20);
        Assert.Equal(1L << 20, cache.PackBytes);
        long most = 0;
        for (int i = 0; i < 30; i++)
        {
            Assert.True(cache.Store(CacheEntries.Key("f", i), CacheEntries.Stamp, CacheEntries.Values("f", i, frames), frames, 1));
            most = Math.Max(most, FilesIn(cache).Sum(f => new FileInfo(f).Length) - new FileInfo(Path.Combine(cache.Settings.Directory, "space")).Length);
        }
        output.WriteLine($"30 records of {cache.EntryBytes(frames, 64)} bytes into a 4 MB cache: {cache.Statistics.Evicted} packs evicted, most bytes held {most}");
        Assert.InRange(most, 3L << 20, 4L << 20);
        Assert.True(cache.Statistics.Evicted >= 4);
        Assert.Equal(0, cache.Statistics.Refused);
        Assert.Null(cache.Read(CacheEntries.Key("f", 0), CacheEntries.Stamp)); // the oldest went
        Assert.Equal(CacheEntries.Values("f", 29, frames), cache.Read(CacheEntries.Key("f", 29), CacheEntries.Stamp)!.Values);

        // another reader holds every closed pack open: nothing can go, so nothing more is stored, and that is said once
        var reader = Open("full", maxBytes: 4L << 20);
        var held = Enumerable.Range(0, 30).Where(i => reader.Read(CacheEntries.Key("f", i), CacheEntries.Stamp) is not null).ToList();
        var said = new List<string>();
        for (int i = 30; i < 40; i++)
            cache.Store(CacheEntries.Key("f", i), CacheEntries.Stamp, CacheEntries.Values("f", i, frames), frames, 1, said.Add);
        Assert.True(cache.Statistics.Refused > 0);
        output.WriteLine(Assert.Single(said));
        Assert.Contains("data.cache.max-gb", said[0]);
        Assert.All(held, i => Assert.NotNull(reader.Read(CacheEntries.Key("f", i), CacheEntries.Stamp)));
        reader.Dispose(); // let go: the next store evicts again
        Assert.True(cache.Store(CacheEntries.Key("f", 40), CacheEntries.Stamp, CacheEntries.Values("f", 40, frames), frames, 1));
        Assert.True(FilesIn(cache).Sum(f => new FileInfo(f).Length) <= (4L << 20) + 8);
    }

    [Fact]
    public void Float16HalvesTheRecordAndRoundsCachedAndComputedFbanksAlike()
    {
        var clip = Clip("e.wav", 1.0);
        var cache = Open(precision: FeaturePrecision.Float16);
        var features = Features(cache);
        var computed = features.Of(clip);
        var served = features.Of(clip);
        var rounded = Uncached(clip).Values;
        FeatureCache.RoundToPrecision(rounded, FeaturePrecision.Float16);
        Assert.Equal(rounded, computed.Values);
        Assert.Equal(rounded, served.Values);
        Assert.Equal(PackRecord.HeaderBytes + computed.Frames * 64 * 2, cache.Locate(Key(clip))!.Value.Length);
        var scalar = Uncached(clip).Values.Select(v => (float)(Half)v); // the vectorised rounding is the scalar cast's, bit for bit
        Assert.Equal(scalar, served.Values);
        var edges = new[] { 0f, -0f, 1e-8f, -6.1e-5f, 65504f, 65520f, 1e6f, float.Epsilon, float.NaN, float.PositiveInfinity, 0.33333334f, 2049f, 2051f };
        var rounded16 = edges.ToArray();
        FeatureCache.RoundToPrecision(rounded16, FeaturePrecision.Float16);
        Assert.Equal(edges.Select(v => BitConverter.SingleToInt32Bits((float)(Half)v)), rounded16.Select(BitConverter.SingleToInt32Bits));
        var worst = Uncached(clip).Values.Zip(served.Values, (a, b) => Math.Abs(a - b) / Math.Max(1e-3f, Math.Abs(a))).Max();
        output.WriteLine($"float16: largest relative rounding {worst:E2}");
        Assert.InRange(worst, 0, 1e-3);
    }

    [Fact]
    public void ThreadsStoringAndReadingOneClipAllGetItsBytes()
    {
        var clip = Clip("f.wav", 1.0);
        var cache = Open();
        var plain = Uncached(clip).Values;
        var results = new float[8][];
        Parallel.For(0, 8, i => { var f = Features(cache); for (int k = 0; k < 5; k++) results[i] = f.Of(clip).Values; });
        Assert.All(results, r => Assert.Equal(plain, r));
        Assert.Equal(0, cache.Statistics.Corrupt);
        Assert.Empty(Directory.EnumerateFiles(cache.Settings.Directory, "*.tmp", SearchOption.AllDirectories));
    }

    /// <summary>A merged index covers the packs written so far: a process that opens the folder later finds every record
    /// through it; one written after the merge is found through its pack's index; a damaged merged index is passed over.</summary>
    [Fact]
    public void AMergedIndexServesAReopenedFolderAndADamagedOneIsPassedOver()
    {
        const int frames = 50;
        var writer = Open("merged");
        for (int i = 0; i < 200; i++) writer.Store(CacheEntries.Key("m", i), CacheEntries.Stamp, CacheEntries.Values("m", i, frames), frames, 1);
        writer.Merge();
        writer.Store(CacheEntries.Key("m", 200), CacheEntries.Stamp, CacheEntries.Values("m", 200, frames), frames, 1);
        var merged = Assert.Single(Directory.GetFiles(_files.PathOf("merged"), "merged-*.idx"));
        output.WriteLine($"{Path.GetFileName(merged)}: {new FileInfo(merged).Length} bytes for 200 records");

        var reader = Open("merged");
        for (int i = 0; i <= 200; i++) Assert.Equal(CacheEntries.Values("m", i, frames), reader.Read(CacheEntries.Key("m", i), CacheEntries.Stamp)!.Values);
        reader.Dispose();

        FlipByte(merged, 20); // the header's pack count: the file fails its hash
        var third = Open("merged");
        Assert.Equal(CacheEntries.Values("m", 7, frames), third.Read(CacheEntries.Key("m", 7), CacheEntries.Stamp)!.Values); // through the pack's own index
    }

    [Fact]
    public void AnOlderPerClipCacheInTheFolderIsIgnoredWithOneLine()
    {
        var folder = _files.PathOf("legacy");
        Directory.CreateDirectory(Path.Combine(folder, "ab"));
        File.WriteAllBytes(Path.Combine(folder, "ab", "ab12.fbank"), new byte[1000]);
        var cache = Open("legacy");
        var said = new List<string>();
        var features = Features(cache);
        var clip = Clip("l.wav", 1.0);
        features.Of(clip, said.Add);
        features.Of(Clip("l2.wav", 1.0), said.Add);
        output.WriteLine(Assert.Single(said));
        Assert.Contains("earlier version", said[0]);
        Assert.Equal(cache.EntryBytes(Uncached(clip).Frames, 64) * 2, cache.Statistics.Bytes); // not counted against the limit
        Assert.True(File.Exists(Path.Combine(folder, "ab", "ab12.fbank")));
    }
}
