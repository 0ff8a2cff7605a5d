using System.Diagnostics;
using ActorTraining.Compute.Data;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Data;

[CollectionDefinition(nameof(HeapMeasurementCollection), DisableParallelization = true)]
public sealed class HeapMeasurementCollection;

/// <summary>
/// Datafiles of 10,000 and 1,000,000 entries (AudioSet-like relative paths, two labels each from 527) built into a
/// <see cref="CorpusIndex"/> and enumerated to the last entry: the managed heap the open index keeps is the same for
/// both sizes, while the same 1 M entries as a List&lt;DatasetEntry&gt; (what AstDatafile.Load gives) cost hundreds of
/// MB. Also the peak resident anonymous memory while building and reading (sampled from /proc/self/status) grows no
/// more for 1 M than for 10 k, where loading the list grows it by its size. Runs alone (no parallel tests) so the
/// process-wide numbers measure only this.
/// </summary>
[Trait("Category", "Slow")] // memory at scale: not in ./test --fast
[Collection(nameof(HeapMeasurementCollection))]
public sealed class CorpusIndexMemoryTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Allowed difference in retained heap between the 10 k and the 1 M index.</summary>
    const long FlatMarginBytes = 1 << 20;

    /// <summary>Allowed difference in peak resident anonymous memory (GC budgets, pooled buffers) between the two sizes.</summary>
    const long PeakMarginBytes = 32 << 20;

    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    string Datafile(int count)
    {
        var path = _files.PathOf($"train-{count}.json");
        using var w = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 16);
        w.Write("{\"data\":[\n");
        for (int i = 0; i < count; i++)
        {
            if (i > 0) w.Write(",\n");
            w.Write($"{{\"wav\": \"audio/balanced_train/Y{i:D9}_30.000_40.000.wav\", \"labels\": \"/m/l{i % 527},/m/l{i * 7 % 527}\"}}");
        }
        w.Write("\n]}\n");
        return path;
    }

    static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

    /// <summary>Resident anonymous memory (heap, stacks; not the index's file-backed pages, which the kernel can drop).</summary>
    static long RssAnon() => File.ReadLines("/proc/self/status").Where(l => l.StartsWith("RssAnon:"))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024).Single();

    /// <summary>Peak RssAnon above its level at the start, sampled every 2 ms while <paramref name="work"/> runs.</summary>
    static long PeakRssAnonGrowth(Action work)
    {
        Heap();
        var start = RssAnon();
        long peak = start;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, RssAnon());
                Thread.Sleep(2);
            }
        });
        work();
        stop.Cancel();
        sampler.Wait();
        return Math.Max(peak, RssAnon()) - start;
    }

    /// <summary>Heap kept while the index is open and after every entry was read; checks the entries as it goes.</summary>
    (long Retained, TimeSpan Took) IndexAndEnumerate(string datafile, int count, bool rebuild = false)
    {
        if (rebuild) File.SetLastWriteTimeUtc(datafile, DateTime.UtcNow); // a changed datafile: its index is built again
        var before = Heap();
        var clock = Stopwatch.StartNew();
        using var index = CorpusIndex.OfDatafile(datafile, _files.PathOf("index"));
        Assert.Equal(count, index.Count);
        int n = 0;
        foreach (var entry in index)
        {
            if (n == 0 || n == count - 1)
            {
                Assert.Equal(_files.PathOf($"audio/balanced_train/Y{n:D9}_30.000_40.000.wav"), entry.AudioPath);
                Assert.Equal([$"/m/l{n % 527}", $"/m/l{n * 7 % 527}"], entry.Labels);
            }
            n++;
        }
        Assert.Equal(count, n);
        var retained = Heap() - before;
        GC.KeepAlive(index);
        return (retained, clock.Elapsed);
    }

    [Fact]
    public void TheIndexKeepsHeapAndPeakMemoryFlatFromTenThousandToAMillionEntriesWhereAListCostsHundredsOfMegabytes()
    {
        var warmUp = Datafile(1_000);
        var small = Datafile(10_000);
        var large = Datafile(1_000_000);
        IndexAndEnumerate(warmUp, 1_000); // JIT, pools, file-system caches: what the first build of a process costs
        var (smallHeap, smallTime) = IndexAndEnumerate(small, 10_000);
        var (largeHeap, largeTime) = IndexAndEnumerate(large, 1_000_000);
        var (reopenedHeap, reopenedTime) = IndexAndEnumerate(large, 1_000_000); // unchanged datafile: the index is reused

        var smallPeak = PeakRssAnonGrowth(() => IndexAndEnumerate(small, 10_000, rebuild: true));
        var largePeak = PeakRssAnonGrowth(() => IndexAndEnumerate(large, 1_000_000, rebuild: true));
        output.WriteLine($"peak RssAnon growth while building and reading: 10 k {smallPeak / 1e6:F1} MB, 1 M {largePeak / 1e6:F1} MB");

        long listHeap = 0;
        var listPeak = PeakRssAnonGrowth(() =>
        {
            var before = Heap();
            var list = AstDatafile.Load(large);
            listHeap = Heap() - before;
            Assert.Equal(1_000_000, list.Count);
            GC.KeepAlive(list);
        });

        output.WriteLine($"datafile 1 M: {new FileInfo(large).Length / 1e6:F1} MB, index: {new FileInfo(Directory.GetFiles(_files.PathOf("index"), "train-1000000-*")[0]).Length / 1e6:F1} MB");
        output.WriteLine($"heap kept by an open index, all entries read: 10 k {smallHeap / 1024.0:F1} KB ({smallTime.TotalSeconds:F1} s), 1 M {largeHeap / 1024.0:F1} KB ({largeTime.TotalSeconds:F1} s)");
        output.WriteLine($"reopened 1 M index (reused, not rebuilt), all entries read: {reopenedHeap / 1024.0:F1} KB ({reopenedTime.TotalSeconds:F1} s)");
        output.WriteLine($"heap kept by List<DatasetEntry> of the 1 M: {listHeap / 1e6:F1} MB ({(double)listHeap / 1_000_000:F0} bytes a clip), peak RssAnon growth {listPeak / 1e6:F1} MB");
        Assert.True(Math.Abs(largeHeap - smallHeap) < FlatMarginBytes, $"index heap 10 k {smallHeap} B vs 1 M {largeHeap} B");
        Assert.True(Math.Abs(reopenedHeap - smallHeap) < FlatMarginBytes, $"index heap 10 k {smallHeap} B vs reopened 1 M {reopenedHeap} B");
        Assert.True(largePeak < smallPeak + PeakMarginBytes, $"peak RssAnon growth 10 k {smallPeak} B vs 1 M {largePeak} B");
        Assert.True(listHeap > 100L * Math.Max(largeHeap, 1 << 20), $"list {listHeap} B vs index {largeHeap} B");
    }
}
