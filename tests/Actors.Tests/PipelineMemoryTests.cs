using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Actors;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;
using Xunit.Abstractions;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// Streams generated corpora of 2,000 and 20,000 short WAV files (AST datafiles read through a corpus index, as
/// `train` reads them) through reader → decoder pool → spectrogram pool → compressor → batcher into a consumer that
/// is deliberately slower than the pipeline (it asks for the next batch only a while after each one, like a busy
/// trainer). Without back-pressure the surplus would pile up in mailboxes and memory would grow with the corpus;
/// with it, the live heap at its peak is the same for both sizes.
/// </summary>
[Trait("Category", "Slow")] // memory at scale: not in ./test --fast
[Collection(SerialCollection.Name)]
public sealed class PipelineMemoryTests : TestKit, IDisposable
{
    const int BatchSize = 32;
    // 18,000 more prepared samples (4 KiB each) held anywhere would be 70 MiB; the work items alone 5 MiB
    const long AllowedGrowthBytes = 16L << 20;

    readonly string _dir = Directory.CreateTempSubdirectory("memory-corpus-").FullName;
    readonly ITestOutputHelper _output;

    public PipelineMemoryTests(ITestOutputHelper output) : base(TestConfig.PipelineDispatcher(2), "memory", output) => _output = output;

    /// <summary>A consumer that pulls one batch at a time and "works" on each for a fixed time before asking again.</summary>
    sealed class SlowConsumer : ReceiveActor
    {
        public SlowConsumer(TimeSpan work, TaskCompletionSource<(int Batches, long Samples)> done)
        {
            int batches = 0;
            long samples = 0;
            Receive<TrainingBatch>(b =>
            {
                batches++;
                samples += b.Size;
                Context.System.Scheduler.ScheduleTellOnce(work, Sender, new RequestBatches(1), Self);
            });
            Receive<EpochDrained>(_ => done.TrySetResult((batches, samples)));
        }
    }

    readonly List<CorpusIndex> _indexes = [];

    /// <summary>WAVs and an AST datafile listing them, read as `train` reads it: through a corpus index.</summary>
    CorpusIndex Generate(string name, int count)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
        var datafile = Path.Combine(folder, "train.json");
        using (var json = new StreamWriter(datafile))
        {
            json.Write("{\"data\":[");
            var wave = new float[3200]; // 0.2 s at 16 kHz
            for (int i = 0; i < count; i++)
            {
                var f = 200 + (i % 50) * 20;
                for (int n = 0; n < wave.Length; n++) wave[n] = 0.3f * MathF.Sin(2 * MathF.PI * f * n / 16000f);
                WavFile.WriteMono16(Path.Combine(folder, $"clip{i:D5}.wav"), wave, 16000);
                json.Write($"{(i > 0 ? "," : "")}\n{{\"wav\":\"clip{i:D5}.wav\",\"labels\":\"{(i % 2 == 0 ? "/m/a" : "/m/b")}\"}}");
            }
            json.Write("]}");
        }
        var index = CorpusIndex.OfDatafile(datafile, Path.Combine(_dir, "index"));
        _indexes.Add(index);
        return index;
    }

    /// <summary>Streams the corpus; returns how far the live managed heap and the working set rose above their levels at
    /// the start, at their peaks.</summary>
    (long LiveGrowth, long WorkingSetGrowth, double Seconds, long Samples) Stream(IReadOnlyList<DatasetEntry> entries, TimeSpan work)
    {
        var labels = new LabelSet(["/m/a", "/m/b"], ["a", "b"]);
        var spec = new PipelineSpec(entries, labels, Seed: 5, Shuffle: true, Augment: true, MixupProbability: 0,
            BaseFrameShiftMs: 10, MelBins: 64, FineTargetFrames: 16, Compression: Compute.Compression.Compression.Parse("pool", 1, "max"), InputFrames: 16,
            Mean: -4.27, Std: 4.57, FreqMask: 8, TimeMask: 4, BatchSize: BatchSize, Workers: 2, Share: Compute.Distributed.DataShare.Whole(BatchSize));
        // What back-pressure bounds is what the pipeline holds: work items, decoded clips and prepared samples in mailboxes
        // and buffers, all managed objects. So the sampler measures the live managed heap (after a full collection, every
        // 250 ms) and, for the record, the working set. The working set alone proved a noisy witness: in the full suite,
        // with earlier tests' leftovers in the process and the GC's own timing, it read +58 to +61 MiB for the larger
        // corpus in fresh clones, +2 to +10 MiB everywhere else, with the same code.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        long liveBaseline = GC.GetTotalMemory(forceFullCollection: true), livePeak = liveBaseline;
        long baseline = process.WorkingSet64, peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                livePeak = Math.Max(livePeak, GC.GetTotalMemory(forceFullCollection: true));
                try { await Task.Delay(250, sampling.Token); } catch (TaskCanceledException) { }
            }
        });
        var done = new TaskCompletionSource<(int Batches, long Samples)>();
        var clock = Stopwatch.StartNew();
        var consumer = Sys.ActorOf(Props.Create(() => new SlowConsumer(work, done)));
        var batcher = Sys.ActorOf(Batcher.Props(spec, consumer));
        batcher.Tell(new StartEpoch(0, 0), consumer);
        batcher.Tell(new RequestBatches(1), consumer);
        Assert.True(done.Task.Wait(TimeSpan.FromMinutes(4)), "the pipeline did not drain the epoch in time");
        clock.Stop();
        sampling.Cancel();
        sampler.Wait();
        Sys.Stop(batcher);
        Sys.Stop(consumer);
        return (livePeak - liveBaseline, peak - baseline, clock.Elapsed.TotalSeconds, done.Task.Result.Samples);
    }

    [Fact]
    public void PeakMemoryDoesNotGrowWithTheCorpusSize()
    {
        var warmup = Generate("warmup", 300);
        var small = Generate("small", 2_000);
        var large = Generate("large", 20_000);
        var work = TimeSpan.FromMilliseconds(50); // ≤ 640 clips/s: slower than the pipeline (~900 clips/s on 2 cores)

        Stream(warmup, TimeSpan.Zero);
        var s = Stream(small, work);
        var l = Stream(large, work);
        foreach (var (name, r) in new[] { ("2,000", s), ("20,000", l) })
            _output.WriteLine($"{name} files: live heap +{r.LiveGrowth / 1048576.0:F1} MiB, working set +{r.WorkingSetGrowth / 1048576.0:F1} MiB " +
                $"over their start, {r.Seconds:F1} s ({r.Samples / r.Seconds:F0} clips/s)");
        Assert.Equal(2_000, s.Samples);
        Assert.Equal(20_000, l.Samples);
        Assert.True(l.LiveGrowth - s.LiveGrowth < AllowedGrowthBytes,
            $"the live heap rose {(l.LiveGrowth - s.LiveGrowth) / 1048576.0:F1} MiB more for 20,000 files than for 2,000 (allowed {AllowedGrowthBytes >> 20} MiB)");
    }

    public new void Dispose()
    {
        base.Dispose();
        foreach (var index in _indexes) index.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
