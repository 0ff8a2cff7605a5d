using ActorTraining.Actors;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Training;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>A synthetic corpus made shards by the `shard` verb once for the class, and one uninterrupted run on them from local files.</summary>
public sealed class ShardCorpusFixture : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("shards-").FullName;
    public string Shards => Path.Combine(Dir, "shards");
    public string Labels { get; }
    public int TrainShards { get; }
    public int EvalShards { get; }
    readonly Lazy<string> _straight;

    public ShardCorpusFixture()
    {
        var corpus = SyntheticCorpus.Generate(Path.Combine(Dir, "corpus"), clipsPerClass: 10, seed: 5, evalClipsPerClass: 2, minSeconds: 1.0, maxSeconds: 1.5);
        Labels = corpus.LabelCsv;
        foreach (var datafile in new[] { corpus.TrainDatafile, corpus.EvalDatafile })
        {
            var r = Cli.RunIn(Dir, TimeSpan.FromMinutes(2), "shard", datafile, "--out", Shards, "--shard-mb", "0.1");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        }
        TrainShards = Directory.GetFiles(Shards, "train-*.tar").Length;
        EvalShards = Directory.GetFiles(Shards, "eval-*.tar").Length;
        _straight = new(() =>
        {
            var run = Path.Combine(Dir, "straight");
            Train(Dir, run, Config("straight", Shards));
            return run;
        });
    }

    /// <summary>The run on local shards, one rank, uninterrupted: what every other run must end as.</summary>
    public string Straight => _straight.Value;

    /// <summary>An experiment on the shards at <paramref name="location"/> (a folder, or an http:// or s3:// prefix), its own cache.</summary>
    public string Config(string name, string location, string extra = "")
    {
        var path = Path.Combine(Dir, $"{name}.hocon");
        File.WriteAllText(path, $$"""
            data {
              source = shards
              train-shards = ["{{location}}/train-{000000..{{TrainShards - 1:D6}}}.tar"]
              eval-shards = ["{{location}}/eval-{000000..{{EvalShards - 1:D6}}}.tar"]
              labels = "{{Labels}}"
              partitions = 4
              shuffle-window-shards = 2
              shard-cache { dir = "{{Path.Combine(Dir, $"cache-{name}")}}", max-gb = 1 }
            }
            training { batch-size = 10, checkpoint-every-steps = 2, seed = 3 }
            curriculum = [
              { method = pool, factor = 2, epochs = 1, lr = 1e-3, warmup-steps = 2 }
              { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 2 }
            ]
            compare = []
            {{extra}}
            """);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}

/// <summary>
/// Training from WebDataset shards made by the `shard` verb: from local files, nginx and an S3 server (Swift's s3api)
/// to the same weights bit for bit; a 3-rank run killed mid-epoch resumed on 2 ranks trains every sample of the epoch
/// exactly once; a server stopped and started again, a connection cut mid-shard and a shard replaced by garbage cost
/// nothing but one line each.
/// </summary>
[Trait("Category", "Slow")] // trainings and servers: not in ./test --fast
public sealed class ShardTrainingTests(ShardCorpusFixture corpus, ITestOutputHelper output) : IClassFixture<ShardCorpusFixture>
{
    static Cli.Result TrainWith(IReadOnlyDictionary<string, string> environment, string dir, string runDir, string config)
    {
        var r = Cli.RunWith(environment, dir, TimeSpan.FromMinutes(4), TrainArgs(runDir, config));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r;
    }

    void AssertSameWeightsAsStraight(string runDir)
    {
        var (equal, maxDiff) = CompareWeights(FinalCheckpoint(corpus.Straight, 1, 1), FinalCheckpoint(runDir, 1, 1));
        output.WriteLine($"{Path.GetFileName(runDir)}: final weights equal to the local run's: {equal} (max |diff| {maxDiff})");
        Assert.True(equal, $"{runDir}: weights differ from the local run's by up to {maxDiff}");
    }

    [Fact]
    public void LocalHttpAndS3ShardsTrainToTheSameWeights()
    {
        using var nginx = new NginxServer(corpus.Shards);
        var http = Path.Combine(corpus.Dir, "http");
        TrainWith(new Dictionary<string, string>(), corpus.Dir, http, corpus.Config("http", nginx.Url));
        AssertSameWeightsAsStraight(http);
        output.WriteLine($"nginx served {nginx.Requests} requests");

        using var s3 = new SwiftS3Server();
        s3.Upload(corpus.Shards, "corpus", "audio/shards");
        var s3Run = Path.Combine(corpus.Dir, "s3");
        TrainWith(s3.Environment, corpus.Dir, s3Run, corpus.Config("s3", "s3://corpus/audio/shards"));
        AssertSameWeightsAsStraight(s3Run);
        Assert.Equal(EpochMetrics(corpus.Straight).Order(StringComparer.Ordinal), EpochMetrics(s3Run).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AThreeRankRunKilledMidEpochResumesOnTwoAndTrainsEverySampleOfTheEpochOnce()
    {
        var run = Path.Combine(corpus.Dir, "ranks");
        var trace = Path.Combine(corpus.Dir, "ranks-trace");
        var config = corpus.Config("ranks", corpus.Shards);
        var environment = new Dictionary<string, string> { [StepTrace.Variable] = trace };
        string[] Args(int ranks) => [.. TrainArgs(run, config), "--set", "training.devices=[" + string.Join(",", Enumerable.Repeat("\"cpu\"", ranks)) + "]"];
        var at = KillWhen(corpus.Dir, Args(3), run, null, c => c is { Phase: 1, Epoch: 0, EpochComplete: false, DataPosition: > 0 }, environment);
        output.WriteLine($"3 ranks killed after the commit at phase 2 epoch 1 position {at.DataPosition} (step {at.Step})");
        var killedPids = StepTrace.Read(trace).Select(l => l.Pid).ToHashSet();
        var resumed = Cli.RunWith(environment, corpus.Dir, TimeSpan.FromMinutes(4), Args(2)); // the devices are not part of the run's identity
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);

        var lines = StepTrace.Read(trace).Where(l => l is { Phase: 1, Epoch: 0, Taken: true }).ToList();
        var before = lines.Where(l => killedPids.Contains(l.Pid) && l.EndPosition <= at.DataPosition).ToList();
        var after = lines.Where(l => !killedPids.Contains(l.Pid)).ToList();
        Assert.All(before, l => Assert.Equal(3, l.World));
        Assert.All(after, l => Assert.Equal(2, l.World));
        var positions = before.Concat(after).SelectMany(l => l.Positions).Order().ToList();
        int samples = ShardIndexFile.Parse(File.ReadAllText(Path.Combine(corpus.Shards, "index.json")), "index.json").Shards
            .Where(s => s.Name.StartsWith("train-")).Sum(s => s.Samples);
        output.WriteLine($"epoch positions trained: {before.Sum(l => l.Positions.Length)} by 3 ranks before the kill, {after.Sum(l => l.Positions.Length)} by 2 after; {samples} samples");
        Assert.Equal(Enumerable.Range(0, samples).Select(p => (long)p), positions);
        // and the positions are the samples: the epoch's order is a bijection onto the corpus's (shard, ordinal)s
        var shards = ShardIndexFile.Parse(File.ReadAllText(Path.Combine(corpus.Shards, "index.json")), "index.json").Shards
            .Where(s => s.Name.StartsWith("train-")).Select(s => new ShardInfo(s.Name, s.Samples, s.Bytes, s.Sha256)).ToList();
        var order = new ShardOrder(shards, ShardOrder.Partition(shards, 4), 2, seed: 3, epoch: 0, shuffle: true);
        Assert.Equal(samples, positions.Select(p => order[p]).Distinct().Count());
        var drift = RelativeDistance(Weights(FinalCheckpoint(corpus.Straight, 1, 1)), Weights(FinalCheckpoint(run, 1, 1)));
        output.WriteLine($"resumed on 2 ranks: ‖Δw‖/‖w‖ = {drift:E2} against the uninterrupted 1-rank run");
        Assert.True(drift <= 1e-5, $"the resumed run drifted {drift:E2}");
    }
}
