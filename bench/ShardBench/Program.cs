using System.Diagnostics;
using System.Globalization;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Features;

// ShardBench ingest <cache-dir> <mel-bins> <shard-url>...   the whole per-clip work from shards on one thread: shard from
//     the cache (fetched on the first pass), sample read, audio decoded to 16 kHz mono, fbank; a cold pass then a warm one
// ShardBench files <mel-bins> <datafile.json>                the same work from a file per clip
// ShardBench order <samples> <samples-per-shard> <partitions> <window> <batch> <nodes,...>
//     the order at scale: build time, a resume deep in the epoch to its first batch, memory, and bytes per node per epoch
var inv = CultureInfo.InvariantCulture;
switch (args.ElementAtOrDefault(0))
{
    case "ingest": return Ingest(args[1], int.Parse(args[2], inv), args[3..]);
    case "files": return Files(int.Parse(args[1], inv), args[2]);
    case "order": return Order(long.Parse(args[1], inv), int.Parse(args[2], inv), int.Parse(args[3], inv), int.Parse(args[4], inv), int.Parse(args[5], inv),
        args[6].Split(',').Select(n => int.Parse(n, inv)).ToArray());
    default:
        Console.Error.WriteLine("usage: ShardBench ingest <cache-dir> <mel-bins> <shard-url>... | files <mel-bins> <datafile.json> | order <samples> <per-shard> <partitions> <window> <batch> <nodes,...>");
        return 2;
}

static FbankExtractor Extractor(int melBins) => new(new FbankOptions(FrameShiftMs: 10, MelBins: melBins));

int Ingest(string cacheDir, int melBins, string[] urls)
{
    var labels = new LabelSet(["x"], ["x"]);
    var cache = ShardCache.For(new ShardCacheSettings(cacheDir, long.MaxValue / 4, TimeSpan.FromSeconds(60)));
    var shards = ShardUrls.Expand(urls, "urls").Select(u => new ShardInfo(u, 0, 0, null)).ToList();
    var extractor = Extractor(melBins);
    var scratch = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"shardbench-{Environment.ProcessId}");
    foreach (var pass in new[] { "cold", "warm", "warm" })
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var decode = new Stopwatch();
        var spectrogram = new Stopwatch();
        int clips = 0;
        double seconds = 0;
        foreach (var shard in shards)
        {
            var local = cache.Open(shard);
            foreach (var spans in local.Members.Samples)
            {
                var audio = spans.Members.First(m => ShardSample.AudioExtensions.Contains(m.Extension));
                var bytes = new byte[audio.Length];
                using (var file = File.OpenRead(local.Path)) { file.Position = audio.Offset; file.ReadExactly(bytes); }
                var path = $"{scratch}.{audio.Extension}";
                File.WriteAllBytes(path, bytes);
                decode.Start();
                var wave = AudioDecoder.Decode(path);
                decode.Stop();
                spectrogram.Start();
                extractor.Values(wave);
                spectrogram.Stop();
                seconds += wave.Length / 16000.0;
                clips++;
            }
        }
        Report($"shards-{pass}", clips, seconds, clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  per clip: decode+resample {decode.Elapsed.TotalMilliseconds / clips:F2} ms, fbank {spectrogram.Elapsed.TotalMilliseconds / clips:F2} ms, the rest (shard read, scratch file) {(clock.Elapsed - decode.Elapsed - spectrogram.Elapsed).TotalMilliseconds / clips:F2} ms"));
    }
    return 0;
}

int Files(int melBins, string datafile)
{
    using var entries = CorpusIndex.OfDatafile(datafile, indexDirectory: null);
    var extractor = Extractor(melBins);
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    double seconds = 0;
    foreach (var entry in entries)
    {
        var wave = AudioDecoder.Decode(entry.AudioPath);
        extractor.Values(wave);
        seconds += wave.Length / 16000.0;
    }
    Report("files", entries.Count, seconds, clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    return 0;
}

static void Report(string what, int clips, double audioSeconds, double wall, double cpu) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"csharp {what} clips={clips} audio={audioSeconds:F0}s wall={wall:F2}s cpu={cpu:F2}s clips/s={clips / wall:F1} clips/cpu-s={clips / cpu:F1}"));

int Order(long samples, int perShard, int partitions, int window, int batch, int[] nodes)
{
    long before = GC.GetTotalMemory(forceFullCollection: true);
    var clock = Stopwatch.StartNew();
    int count = (int)((samples + perShard - 1) / perShard);
    // shard sizes vary as a writer's do (±10 %), the last one short
    var rng = new Random(1);
    var shards = new List<ShardInfo>(count);
    long left = samples;
    for (int s = 0; s < count && left > 0; s++)
    {
        int n = (int)Math.Min(left, s == count - 1 ? left : Math.Max(1, perShard + rng.Next(-perShard / 10, perShard / 10 + 1)));
        shards.Add(new ShardInfo($"s3://bucket/corpus/train-{s:D6}.tar", n, n * 320_000L, null));
        left -= n;
    }
    if (left > 0) shards[^1] = shards[^1] with { Samples = shards[^1].Samples + (int)left };
    double listed = clock.Elapsed.TotalSeconds;
    clock.Restart();
    var interleave = ShardOrder.Partition(shards, partitions);
    var order = new ShardOrder(shards, interleave, window, seed: 42, epoch: 7, shuffle: true);
    double built = clock.Elapsed.TotalSeconds;
    long total = interleave.Count;
    long resumeAt = total / batch * 7 / 10 * batch; // a checkpoint's data position, 70 % into the epoch
    clock.Restart();
    var share = DataShare.Partitioned(batch, 0, nodes.Max(), interleave).Of(resumeAt, total);
    var firstBatch = new List<ShardSampleRef>();
    for (long p = share.NextFrom(resumeAt); p < share.Range(0).End; p = share.NextFrom(p + 1)) firstBatch.Add(order[p]);
    double located = clock.Elapsed.TotalSeconds;
    long memory = GC.GetTotalMemory(forceFullCollection: true) - before;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"order samples={total} shards={shards.Count} partitions={partitions} window={window}: list {listed:F3}s, order built {built:F3}s, " +
        $"resume at {resumeAt} to its first batch ({firstBatch.Count} positions of rank 0 of {nodes.Max()}) {located * 1000:F1}ms, managed memory {memory / 1e6:F1} MB (shard list included)"));
    // which shards each node's positions touch in one epoch: that is what it downloads (whole shards, once while its window is read)
    double dataset = shards.Sum(s => (double)s.Bytes);
    foreach (int n in nodes)
    {
        var bytes = new double[n];
        var touched = new HashSet<int>[n];
        for (int r = 0; r < n; r++) touched[r] = [];
        var full = new ShardOrder(shards, interleave, window, 42, 7, true);
        for (long p = 0; p < total; p += Math.Max(1, total / 2_000_000)) // every position up to 2 M, else a regular sample of them
        {
            var (q, _) = interleave.Locate(p);
            touched[q % n].Add(full[p].Shard);
        }
        for (int r = 0; r < n; r++) bytes[r] = touched[r].Sum(s => (double)shards[s].Bytes);
        var ratio = bytes.Max() / (dataset / n);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bytes nodes={n}: per node {string.Join(" ", bytes.Select(b => $"{b / 1e9:F2}GB"))} of {dataset / 1e9:F2}GB; largest / (dataset/nodes) = {ratio:F3}; shards read by two nodes: {Enumerable.Range(0, n).SelectMany(r => touched[r]).GroupBy(s => s).Count(g => g.Count() > 1)}"));
    }
    return 0;
}
