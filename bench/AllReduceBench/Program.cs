using System.Diagnostics;
using System.Globalization;
using ActorTraining.Compute.Distributed;

// Bus bandwidth of RingAllReduce.Sum for 2 and 3 ranks (threads of this process, loopback TCP) and buffers of
// 1 MB … 350 MB (AST-base has ~87 M parameters = 350 MB of float32 gradients): busbw = 2·(n−1)/n · bytes / time,
// the NCCL-tests convention: what each of the ring's n links carries per second. Baseline: n concurrent iperf3 pairs
// on loopback, per pair (the ring runs n links at once on the same cores). Prints a markdown table; the
// iperf3 aggregates (Gbit/s) for 1, 2 and 3 streams come as the first argument from run.sh.
var iperfGbits = (args.Length > 0 ? args[0] : "NaN,NaN,NaN").Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
int[] sizesMb = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1, 4, 16, 64, 350];
double PerStreamGBs(int streams) => iperfGbits[streams - 1] / 8;
Console.WriteLine($"iperf3 loopback: 1 pair {PerStreamGBs(1):F2} GB/s; 2 pairs at once {PerStreamGBs(2):F2} GB/s each; 3 pairs at once {PerStreamGBs(3):F2} GB/s each");
Console.WriteLine();
Console.WriteLine("| ranks | buffer | time per all-reduce (median) | bus bandwidth | ÷ iperf3 (n pairs at once, per pair) | ÷ iperf3 (one pair alone) |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var world in new[] { 2, 3 })
{
    var ring = LocalRing.Create(world, TimeSpan.FromSeconds(120));
    foreach (var mb in sizesMb)
    {
        long floats = mb * 1_000_000L / sizeof(float);
        var buffers = Enumerable.Range(0, world).Select(r => Enumerable.Repeat(1f + r, (int)floats).ToArray()).ToArray();
        int reps = mb >= 64 ? 3 : 10;
        var times = new List<double>();
        for (int rep = 0; rep < reps + 1; rep++)
        {
            var clock = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, world).Select(r => new Thread(() => ring[r].Sum(buffers[r]))).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            if (rep > 0) times.Add(clock.Elapsed.TotalSeconds); // the first is warm-up
        }
        times.Sort();
        double median = times[times.Count / 2];
        double busGBs = 2.0 * (world - 1) / world * mb / 1000.0 / median;
        Console.WriteLine($"| {world} | {mb} MB | {median * 1000:F1} ms | {busGBs:F2} GB/s | {busGBs / PerStreamGBs(world):F2} | {busGBs / (iperfGbits[0] / 8):F2} |");
    }
    foreach (var r in ring) r.Dispose();
}
