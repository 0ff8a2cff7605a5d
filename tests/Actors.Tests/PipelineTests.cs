using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Actors;
using ActorTraining.Messages;
using Xunit.Abstractions;

namespace ActorTraining.Actors.Tests;

/// <summary>The data pipeline (reader → clip worker pool → batcher) on real generated WAVs.</summary>
public sealed class PipelineTests : TestKit, IClassFixture<PipelineTests.Corpus>
{
    readonly Corpus _corpus;
    readonly ITestOutputHelper _output;

    public PipelineTests(ITestOutputHelper output, Corpus corpus) : base(TestConfig.PipelineDispatcher(3), "pipeline", output)
    {
        _output = output;
        _corpus = corpus;
    }

    public sealed class Corpus : IDisposable
    {
        public readonly string Folder = Directory.CreateTempSubdirectory("pipeline-corpus-").FullName;
        public readonly (IReadOnlyList<Compute.Data.DatasetEntry> Train, IReadOnlyList<Compute.Data.DatasetEntry> Eval, Compute.Data.LabelSet Labels) Data;
        public Corpus() => Data = TestCorpus.Synthetic(Folder, clipsPerClass: 4);
        public void Dispose() { try { Directory.Delete(Folder, true); } catch (IOException) { } }
    }

    (List<TrainingBatch> Batches, EpochDrained Drained) Epoch(PipelineSpec spec, int epoch, long from)
    {
        var consumer = CreateTestProbe();
        var batcher = Sys.ActorOf(Batcher.Props(spec, consumer.Ref));
        batcher.Tell(new StartEpoch(epoch, from));
        batcher.Tell(new RequestBatches(1000));
        var batches = new List<TrainingBatch>();
        while (true)
        {
            var m = consumer.ReceiveOne(TimeSpan.FromSeconds(60));
            if (m is TrainingBatch b) batches.Add(b);
            else if (m is EpochDrained d) { Sys.Stop(batcher); return (batches, d); }
            else Assert.Fail($"unexpected {m}");
        }
    }

    [Fact]
    public void BatchesComeInWorkItemOrderAndAreTheSameWhateverTheNumberOfWorkers()
    {
        var (train, _, labels) = _corpus.Data;
        var (one, _) = Epoch(TestCorpus.Spec(train, labels, workers: 1), epoch: 1, from: 0);
        var (three, drained) = Epoch(TestCorpus.Spec(train, labels, workers: 3), epoch: 1, from: 0);
        Assert.Equal(train.Count, drained.Positions);
        Assert.Equal([5L, 10, 15, 20, 24], one.Select(b => b.EndPosition));
        Assert.Equal(one.Count, three.Count);
        for (int i = 0; i < one.Count; i++)
        {
            Assert.Equal(one[i].Targets, three[i].Targets);
            Assert.Equal(one[i].Inputs, three[i].Inputs);
        }
        // a different epoch is a different order
        var (other, _) = Epoch(TestCorpus.Spec(train, labels, workers: 1), epoch: 2, from: 0);
        Assert.NotEqual(one[0].Inputs, other[0].Inputs);
        // inputs are normalised spectrograms, not padding: per-batch statistics in a plausible range
        var mean = one[0].Inputs.Average();
        _output.WriteLine($"batch 0 input mean {mean:F3}, min {one[0].Inputs.Min():F3}, max {one[0].Inputs.Max():F3}");
        Assert.InRange(one[0].Inputs.Max() - one[0].Inputs.Min(), 0.5, 100);
    }

    [Fact]
    public void TheBalancedSamplerReadsTheClipsItsWeightsDrawAndTheEvaluationSetStaysWhole()
    {
        var (train, eval, labels) = _corpus.Data;
        // a reference weight file giving every draw to clip 5
        var weights = Path.Combine(_corpus.Folder, "train_weight.csv");
        File.WriteAllLines(weights, train.Select((_, i) => i == 5 ? "1.000000000000000000e+00" : "0.000000000000000000e+00"));
        var defaults = Compute.Training.ExperimentConfig.Default();
        var config = defaults with { Data = defaults.Data with { Balanced = new Compute.Training.BalancedSampling(weights, "") },
            FrontEnd = defaults.FrontEnd with { Mixup = 0 } };
        var settings = new RunSettings(config, 0, train, eval, labels, Path.Combine(_corpus.Folder, "checkpoints"), Workers: 2);
        var phase = settings.Plan()[^1];
        var spec = settings.Pipeline(phase, training: true, Compute.Distributed.DataShare.Whole(5));
        var (batches, drained) = Epoch(spec, epoch: 0, from: 0);
        Assert.Equal(train.Count, drained.Positions); // an epoch is as many draws as clips
        var target = new float[labels.Count];
        target[labels.IndexOf(train[5].Labels[0])] = 1;
        Assert.All(batches.SelectMany(b => b.Targets.Chunk(labels.Count)), row => Assert.Equal(target, row));
        Assert.Null(settings.Pipeline(phase, training: false, Compute.Distributed.DataShare.Whole(5)).Weights);
    }

    [Fact]
    public void AnEpochResumedAtADataPositionContinuesWithExactlyTheSameBatches()
    {
        var (train, _, labels) = _corpus.Data;
        var spec = TestCorpus.Spec(train, labels, workers: 2);
        var (full, _) = Epoch(spec, epoch: 0, from: 0);
        var (resumed, _) = Epoch(spec, epoch: 0, from: 10);
        Assert.Equal(full.Skip(2).Select(b => b.EndPosition), resumed.Select(b => b.EndPosition));
        for (int i = 0; i < resumed.Count; i++) Assert.Equal(full[i + 2].Inputs, resumed[i].Inputs);
    }

    [Fact]
    public void UnreadableFilesAreSkippedListedAndTheEpochGoesOn()
    {
        var (train, _, labels) = _corpus.Data;
        var broken = Path.Combine(_corpus.Folder, "broken.wav");
        File.WriteAllBytes(broken, "RIFF not really a wave file"u8.ToArray());
        var missing = Path.Combine(_corpus.Folder, "missing.wav");
        var entries = train.Take(6).Append(new Compute.Data.DatasetEntry(broken, train[0].Labels)).Append(new Compute.Data.DatasetEntry(missing, train[1].Labels)).ToList();
        var (batches, drained) = Epoch(TestCorpus.Spec(entries, labels, workers: 2, training: false), epoch: 0, from: 0);
        Assert.Equal(6, batches.Sum(b => b.Size));
        var skipped = batches.SelectMany(b => b.Skipped).Concat(drained.Skipped).ToList();
        Assert.Equal([broken, missing], skipped.Order());
    }

    [Fact]
    public void PoolingAndFrameShiftGiveTheCompressedInputLength()
    {
        var (train, _, labels) = _corpus.Data;
        var (pooled, _) = Epoch(TestCorpus.Spec(train.Take(5).ToList(), labels, workers: 1, training: false, method: "pool", factor: 4), 0, 0);
        var (shifted, _) = Epoch(TestCorpus.Spec(train.Take(5).ToList(), labels, workers: 1, training: false, method: "fshift", factor: 2), 0, 0);
        Assert.Equal(32, pooled[0].Frames);
        Assert.Equal(64, shifted[0].Frames);
        Assert.Equal(5 * 32 * 64, pooled[0].Inputs.Length);
    }

    /// <summary>
    /// Each rank's pipeline decodes only its part of every global batch: 3 ranks over a batch of 5 (parts 2/2/1) and 2
    /// ranks over one of 4 give, batch by batch, exactly the single pipeline's rows — same positions, same bytes — and
    /// every rank gets every batch, even one whose part is empty (the last batch of 4 positions split 5 ways).
    /// </summary>
    [Fact]
    public void RanksReadOnlyTheirPartOfEachGlobalBatchAndTogetherTheWhole()
    {
        var (train, _, labels) = _corpus.Data; // 24 clips
        foreach (var (batchSize, world) in new[] { (5, 3), (4, 2), (5, 5) })
        {
            var (whole, _) = Epoch(TestCorpus.Spec(train, labels, workers: 2, batchSize: batchSize), epoch: 3, from: 0);
            var parts = Enumerable.Range(0, world).Select(r =>
                Epoch(TestCorpus.Spec(train, labels, workers: 2, batchSize: batchSize, share: Compute.Distributed.DataShare.Slice(batchSize, r, world)), 3, 0).Batches).ToList();
            Assert.All(parts, p => Assert.Equal(whole.Count, p.Count));
            for (int k = 0; k < whole.Count; k++)
            {
                Assert.All(parts, p => Assert.Equal((k, whole[k].EndPosition), (p[k].Batch, p[k].EndPosition)));
                Assert.Equal(whole[k].Positions, parts.SelectMany(p => p[k].Positions));
                Assert.Equal(whole[k].Inputs, parts.SelectMany(p => p[k].Inputs));
                Assert.Equal(whole[k].Targets, parts.SelectMany(p => p[k].Targets));
            }
            _output.WriteLine($"batch {batchSize}, {world} ranks: parts of the last batch {string.Join("/", parts.Select(p => p[^1].Size))}");
        }
    }

    [Fact]
    public void AnEvaluationShardReadsWholeBatchesAndTheShardsTogetherTheSet()
    {
        var (train, _, labels) = _corpus.Data;
        var (whole, _) = Epoch(TestCorpus.Spec(train, labels, workers: 1, batchSize: 5, training: false), 0, 0);
        var shards = Enumerable.Range(0, 2).Select(s =>
            Epoch(TestCorpus.Spec(train, labels, workers: 1, batchSize: 5, training: false, share: Compute.Distributed.DataShare.Stripe(5, s, 2)), 0, 0).Batches).ToList();
        Assert.Equal([0L, 2, 4], shards[0].Select(b => b.Batch));
        Assert.Equal([1L, 3], shards[1].Select(b => b.Batch));
        foreach (var b in shards.SelectMany(x => x))
        {
            Assert.Equal(whole[(int)b.Batch].Positions, b.Positions);
            Assert.Equal(whole[(int)b.Batch].Inputs, b.Inputs);
        }
    }

    /// <summary>
    /// The feature cache changes where an fbank comes from, never what a batch holds: an epoch read from a cold cache, the
    /// same epoch again from the warm one (every clip a hit), and an evaluation pipeline at another pooling factor (the
    /// same 10 ms fbanks, pooled afterwards) give the bytes of the pipeline without a cache; a Frame-Shift phase caches
    /// its own hop. Mixed clips (mixup 0.5 in training) are decoded, not cached.
    /// </summary>
    [Fact]
    public void ACachedEpochHasTheBytesOfAnUncachedOne()
    {
        var (train, _, labels) = _corpus.Data;
        var folder = Directory.CreateTempSubdirectory("pipeline-cache-").FullName;
        try
        {
            var settings = new Compute.Features.FeatureCacheSettings(folder, Compute.Features.FeaturePrecision.Float32, 1L << 30);
            var cache = Compute.Features.FeatureCache.For(settings);
            foreach (var (training, method, factor) in new[] { (true, "pool", 1), (false, "pool", 4), (false, "fshift", 2) })
            {
                var plain = TestCorpus.Spec(train, labels, workers: 2, training: training, method: method, factor: factor);
                var cached = plain with { Cache = settings };
                var before = cache.Statistics;
                var (reference, _) = Epoch(plain, epoch: 2, from: 0);
                var (cold, _) = Epoch(cached, epoch: 2, from: 0);
                var afterCold = cache.Statistics;
                var (warm, _) = Epoch(cached, epoch: 2, from: 0);
                var afterWarm = cache.Statistics;
                _output.WriteLine($"{(training ? "training" : "evaluation")} {method} C={factor}: cold pass {afterCold.Hits - before.Hits} hits / " +
                                  $"{afterCold.Misses - before.Misses} misses, warm pass {afterWarm.Hits - afterCold.Hits} hits / {afterWarm.Misses - afterCold.Misses} misses; {afterWarm.Bytes} bytes cached");
                Assert.Equal(reference.Select(b => b.Inputs), cold.Select(b => b.Inputs));
                Assert.Equal(reference.Select(b => b.Inputs), warm.Select(b => b.Inputs));
                Assert.Equal(reference.Select(b => b.Targets), warm.Select(b => b.Targets));
                Assert.Equal(0, afterWarm.Misses - afterCold.Misses);
                Assert.True(afterWarm.Hits > afterCold.Hits, "the second pass read nothing from the cache");
                if (!training) Assert.Equal(train.Count, afterWarm.Hits - afterCold.Hits); // no mixup: every clip a hit
                if (method == "fshift") Assert.Equal(train.Count, afterCold.Misses - before.Misses); // its own hop: none of the 10 ms entries served
            }
        }
        finally { Directory.Delete(folder, true); }
    }
}
