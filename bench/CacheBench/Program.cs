using System.Diagnostics;
using ActorTraining.Compute.Features;

// write DIR MEL PRECISION CLIPS FRAMES   stores CLIPS synthetic fbanks; prints files and bytes in DIR
// read DIR MEL PRECISION CLIPS FRAMES    a fresh process: the cache's open time, then every clip read (CPU time per clip)
// many DIR PACKS PER_PACK                PACKS packs of PER_PACK tiny records (64 mel × 1 frame, float16), then a merge
// open DIR PACKS PER_PACK LOOKUPS        a fresh process on that folder: open time, first hit, random hits per second, memory
// merge DIR                              merges the folder's indexes until every entry is covered
// index DATAFILE DIR                     builds the datafile's corpus index in DIR as `train` does: time, entries, peak memory
// Uses only FeatureCache.For / Store / Read, so the same source builds against the per-clip cache (bench/cache/run.sh).
var process = Process.GetCurrentProcess();
switch (args[0])
{
    case "write":
    {
        var (dir, mel, precision, clips, frames) = Shape(args);
        var cache = FeatureCache.For(new FeatureCacheSettings(dir, precision, 1L << 40));
        var values = Values(frames * mel, precision);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < clips; i++) cache.Store(Key(i, mel), Stamp, values, frames, frames * 160);
        var files = Directory.GetFiles(dir, "*", SearchOption.AllDirectories);
        Console.WriteLine($"write mel={mel} {precision} clips={clips} frames={frames}: {clock.Elapsed.TotalSeconds:F2} s, " +
                          $"{files.Length} files, {files.Sum(f => new FileInfo(f).Length)} bytes");
        break;
    }
    case "read":
    {
        var (dir, mel, precision, clips, frames) = Shape(args);
        var clock = Stopwatch.StartNew();
        var cache = FeatureCache.For(new FeatureCacheSettings(dir, precision, 1L << 40));
        double open = clock.Elapsed.TotalMilliseconds;
        var values = Values(frames * mel, precision);
        for (int pass = 0; pass < 3; pass++)
        {
            var cpu = process.TotalProcessorTime;
            clock.Restart();
            int hits = 0;
            for (int i = 0; i < clips; i++) if (cache.Read(Key(i, mel), Stamp) is { } read && read.Values.Length == values.Length) hits++;
            process.Refresh();
            double cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"read mel={mel} {precision} pass {pass + 1}: open {open:F1} ms, {hits}/{clips} hits, {clips / cpuSeconds:F0} clips per CPU-second, " +
                              $"{clips / clock.Elapsed.TotalSeconds:F0} clips/s wall");
        }
        break;
    }
#if !PER_CLIP // the pack cache's own: units (Group) and merges
    case "index":
    {
        var clock = Stopwatch.StartNew();
        using var index = ActorTraining.Compute.Data.CorpusIndex.OfDatafile(args[1], args[2]);
        Console.WriteLine($"index: {index.Count} entries in {clock.Elapsed.TotalSeconds:F1} s; peak RSS {Resident("VmHWM:") / 1024} MB, " +
                          $"index file {Directory.GetFiles(args[2]).Sum(f => new FileInfo(f).Length) / 1e6:F0} MB");
        break;
    }
    case "many":
    {
        string dir = args[1];
        int packs = int.Parse(args[2]), perPack = int.Parse(args[3]);
        var cache = FeatureCache.For(new FeatureCacheSettings(dir, FeaturePrecision.Float16, 1L << 40));
        var values = Values(64, FeaturePrecision.Float16);
        var clock = Stopwatch.StartNew();
        for (int p = 0; p < packs; p++)
        {
            for (int i = 0; i < perPack; i++) cache.Store(Key(p * perPack + i, 64) with { Group = $"g{p}" }, Stamp, values, 1, 160);
            if (p % 1000 == 999) Console.WriteLine($"{(p + 1) * (long)perPack} records in {clock.Elapsed.TotalSeconds:F0} s");
        }
        double written = clock.Elapsed.TotalSeconds;
        clock.Restart();
        cache.Merge();
        Console.WriteLine($"many: {(long)packs * perPack} records in {packs} packs written in {written:F1} s " +
                          $"({(long)packs * perPack / written:F0} stores/s), last merge {clock.Elapsed.TotalSeconds:F1} s; " +
                          $"{Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Length} files");
        break;
    }
    case "merge":
    {
        var clock = Stopwatch.StartNew();
        var cache = FeatureCache.For(new FeatureCacheSettings(args[1], FeaturePrecision.Float16, 1L << 40));
        double open = clock.Elapsed.TotalSeconds;
        cache.Merge();
        Console.WriteLine($"merge: opened in {open:F1} s, merged in {clock.Elapsed.TotalSeconds - open:F1} s");
        break;
    }
    case "open":
    {
        string dir = args[1];
        int packs = int.Parse(args[2]), perPack = int.Parse(args[3]), lookups = int.Parse(args[4]);
        long before = Resident();
        var clock = Stopwatch.StartNew();
        var cache = FeatureCache.For(new FeatureCacheSettings(dir, FeaturePrecision.Float16, 1L << 40));
        double open = clock.Elapsed.TotalMilliseconds;
        bool first = cache.Read(Key(0, 64), Stamp) is not null;
        double firstHit = clock.Elapsed.TotalMilliseconds;
        long afterOpen = Resident();
        var random = new Random(1);
        int hits = 0;
        clock.Restart();
        for (int i = 0; i < lookups; i++) if (cache.Read(Key(random.Next(packs * perPack), 64), Stamp) is not null) hits++;
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"open {packs} packs × {perPack}: open {open:F0} ms, first hit {(first ? "yes" : "NO")} at {firstHit:F0} ms; " +
                          $"{hits}/{lookups} random hits at {lookups / seconds:F0}/s; anonymous resident memory (RssAnon) {before / 1024} MB before, " +
                          $"{afterOpen / 1024} MB after opening, {Resident() / 1024} MB after the lookups; VmRSS {Resident("VmRSS:") / 1024} MB (file pages included)");
        break;
    }
#endif
}
return 0;

static (string Dir, int Mel, FeaturePrecision Precision, int Clips, int Frames) Shape(string[] args) =>
    (args[1], int.Parse(args[2]), args[3] == "float16" ? FeaturePrecision.Float16 : FeaturePrecision.Float32, int.Parse(args[4]), int.Parse(args[5]));

static FeatureKey Key(long i, int mel) => new($"/bench/clip-{i:D8}.wav", 10, mel, 10.25);

static float[] Values(int count, FeaturePrecision precision)
{
    var random = new Random(7);
    var values = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 20 - 15)).ToArray();
    FeatureCache.RoundToPrecision(values, precision);
    return values;
}

/// <summary>Anonymous resident memory (kB): the heap and native allocations, not file pages a map shares with the page cache.</summary>
static long Resident(string field = "RssAnon:") => File.ReadLines("/proc/self/status").Where(l => l.StartsWith(field)).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).FirstOrDefault();

partial class Program { static readonly SourceStamp Stamp = new(1000, 1); }
