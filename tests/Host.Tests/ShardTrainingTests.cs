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

    /// <summary>The served copy of the shards (a test may damage it), and the number of eval shards in it.</summary>
    string ServedCopy(string name)
    {
        var dir = Directory.CreateDirectory(Path.Combine(corpus.Dir, $"served-{name}")).FullName;
        foreach (var file in Directory.GetFiles(corpus.Shards)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
        return dir;
    }

    static int Lines(string text, string part) => text.Split('\n').Count(l => l.Contains(part));

    [Fact]
    public void AServerStoppedMidEpochAndStartedAgainCostsOneLineAndNothingElse()
    {
        // 100 kB/s per response: the first epoch waits for its shards, so the server goes away with downloads under way
        using var nginx = new NginxServer(ServedCopy("outage"), rateLimit: "100k");
        var run = Path.Combine(corpus.Dir, "outage");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = corpus.Dir };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "actortraining.dll") }.Concat(TrainArgs(run, corpus.Config("outage", nginx.Url)))) psi.ArgumentList.Add(a);
        using var child = System.Diagnostics.Process.Start(psi)!;
        var stdout = new System.Text.StringBuilder();
        child.OutputDataReceived += (_, e) => { lock (stdout) stdout.AppendLine(e.Data); };
        child.BeginOutputReadLine();
        var stderr = child.StandardError.ReadToEndAsync();
        bool Training() { lock (stdout) return stdout.ToString().Contains("generation 0:"); }
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!(Training() && nginx.Requests > corpus.EvalShards) && DateTime.UtcNow < deadline && !child.HasExited) Thread.Sleep(20);
            Assert.False(child.HasExited, "training ended before the outage");
            nginx.Stop();
            output.WriteLine($"nginx stopped after {nginx.Requests} requests; started again in 4 s");
            Thread.Sleep(4000);
            nginx.Start();
            Assert.True(child.WaitForExit(TimeSpan.FromMinutes(4)), "training did not finish");
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }
        child.WaitForExit();
        var text = stdout + stderr.Result;
        Assert.True(child.ExitCode == 0, text);
        Assert.True(Lines(text, "retrying for up to") == 1, text);
        output.WriteLine(text.Split('\n').First(l => l.Contains("retrying for up to")));
        AssertSameWeightsAsStraight(run);
    }

    [Fact]
    public void AConnectionCutMidShardResumesTheDownloadWithOneLine()
    {
        using var nginx = new NginxServer(ServedCopy("cut"));
        using var proxy = new CuttingProxy(nginx.Port, cutAfterBytes: 40_000, cuts: 3);
        var run = Path.Combine(corpus.Dir, "cut");
        var r = Cli.RunIn(corpus.Dir, TimeSpan.FromMinutes(4), TrainArgs(run, corpus.Config("cut", $"http://127.0.0.1:{proxy.Port}")));
        var text = r.Stdout + r.Stderr;
        Assert.True(r.ExitCode == 0, text);
        Assert.Equal(3, proxy.Cut);
        Assert.Equal(1, Lines(text, "retrying for up to"));
        output.WriteLine($"{proxy.Cut} connections cut mid-shard; {text.Split('\n').First(l => l.Contains("retrying for up to"))}");
        AssertSameWeightsAsStraight(run);
    }

    [Fact]
    public void AShardReplacedByGarbageIsFetchedAgainThenItsSamplesAreSkippedWithOneLine()
    {
        var served = ServedCopy("garbage");
        var victim = Path.Combine(served, "train-000003.tar");
        var length = new FileInfo(victim).Length;
        File.WriteAllBytes(victim, Enumerable.Range(0, (int)length).Select(i => (byte)(i * 31 + 7)).ToArray());
        using var nginx = new NginxServer(served);
        var run = Path.Combine(corpus.Dir, "garbage");
        var r = Cli.RunIn(corpus.Dir, TimeSpan.FromMinutes(4), TrainArgs(run, corpus.Config("garbage", nginx.Url)));
        var text = r.Stdout + r.Stderr;
        Assert.True(r.ExitCode == 0, text);
        var index = ShardIndexFile.Parse(File.ReadAllText(Path.Combine(corpus.Shards, "index.json")), "index.json");
        int lost = index.Shards.Single(s => s.Name == "train-000003.tar").Samples;
        output.WriteLine(string.Join("\n", text.Split('\n').Where(l => l.Contains("train-000003.tar"))));
        var line = Assert.Single(text.Split('\n'), l => l.Contains("train-000003.tar") && l.Contains("warning"));
        Assert.Contains("content does not match the index", line);
        Assert.Equal(3, File.ReadAllLines(nginx.AccessLog).Count(l => l.Contains("GET /train-000003.tar")));
        // every epoch trained the others: 3 epochs, each skipping exactly that shard's samples
        Assert.Equal(3, Lines(text, $"{lost} files skipped"));
    }

    [Fact]
    public void TheCacheKeepsItsLimitEvictsWholeShardsAndFetchesACorruptCopyAgain()
    {
        using var nginx = new NginxServer(corpus.Shards);
        var index = ShardIndexFile.Parse(File.ReadAllText(Path.Combine(corpus.Shards, "index.json")), "index.json");
        var shards = index.Shards.Where(s => s.Name.StartsWith("train-")).Select(s => new ShardInfo($"{nginx.Url}/{s.Name}", s.Samples, s.Bytes, s.Sha256)).ToList();
        var folder = Path.Combine(corpus.Dir, "cache-limit");
        Directory.CreateDirectory(folder);
        var bystander = Path.Combine(folder, "not-ours.tar");
        File.WriteAllText(bystander, "a file the cache did not write");
        long limit = shards.Take(3).Sum(s => s.Bytes) + 1;
        var cache = ShardCache.For(new ShardCacheSettings(folder, limit, TimeSpan.FromSeconds(10)));
        foreach (var each in shards.Take(6))
        {
            var local = cache.Open(each);
            Assert.Equal(each.Samples, local.Members.Samples.Count);
            Assert.True(cache.HeldBytes <= limit, $"{cache.HeldBytes} bytes held, limit {limit}");
        }
        var held = Directory.GetFiles(folder, "*.tar").Where(f => f != bystander).ToList();
        Assert.Equal(3, held.Count); // the three most recent, whole
        Assert.True(File.Exists(bystander));
        Assert.Throws<Compute.Training.ConfigException>(() => cache.CheckRoom(limit + 1, "the test's windows"));

        // a copy damaged on disk (found there by a new process's cache: here, a new folder holding it) is fetched again
        var shard = shards[5];
        var fresh = Directory.CreateDirectory(Path.Combine(corpus.Dir, "cache-damaged")).FullName;
        var bytes = File.ReadAllBytes(Path.Combine(folder, ShardCache.FileNameOf(shard.Url)));
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(Path.Combine(fresh, ShardCache.FileNameOf(shard.Url)), bytes);
        var gets = File.ReadAllLines(nginx.AccessLog).Length;
        var reopened = ShardCache.For(new ShardCacheSettings(fresh, limit, TimeSpan.FromSeconds(10))).Open(shard);
        Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Shards, Path.GetFileName(shard.Url))), File.ReadAllBytes(reopened.Path));
        Assert.Contains(File.ReadAllLines(nginx.AccessLog).Skip(gets), l => l.Contains($"GET /{Path.GetFileName(shard.Url)}"));
    }

    [Fact]
    public void BadSourcesStopWithOneLineNamingThem()
    {
        using var s3 = new SwiftS3Server();
        s3.Upload(corpus.Shards, "corpus", "audio/shards");
        var notATar = Directory.CreateDirectory(Path.Combine(corpus.Dir, "not-a-tar")).FullName;
        File.WriteAllText(Path.Combine(notATar, "train-000000.tar"), "these bytes are no tar archive at all, and there is no index.json");
        var unused = LoopbackPorts.Free();
        var wrongSecret = new Dictionary<string, string>(s3.Environment) { ["AWS_SECRET_ACCESS_KEY"] = "not-the-secret" };
        var cases = new (string Name, string Location, IReadOnlyDictionary<string, string> Environment, string Expected)[]
        {
            ("unreachable", $"http://127.0.0.1:{unused}", new Dictionary<string, string>(), $"error: http://127.0.0.1:{unused}/index.json: unreachable for 2 s"),
            ("forbidden", "s3://corpus/audio/shards", wrongSecret, "error: s3://corpus/audio/shards/index.json: access denied"),
            ("no-bucket", "s3://nobucket/audio/shards", s3.Environment, "error: s3://nobucket/audio/shards/index.json: no bucket 'nobucket'"),
            ("no-key", "s3://corpus/elsewhere", s3.Environment, "error: s3://corpus/elsewhere/train-000000.tar: no such key"),
            ("not-a-tar", notATar, new Dictionary<string, string>(), "error: data.train-shards: none of its"),
        };
        foreach (var (name, location, environment, expected) in cases)
        {
            var config = corpus.Config($"bad-{name}", location, "data.shard-cache.source-timeout-seconds = 2");
            if (name == "not-a-tar") File.WriteAllText(config, File.ReadAllText(config).Replace($"train-{{000000..{corpus.TrainShards - 1:D6}}}", "train-000000"));
            var r = Cli.RunWith(environment, corpus.Dir, TimeSpan.FromMinutes(2), TrainArgs(Path.Combine(corpus.Dir, $"bad-{name}"), config));
            output.WriteLine($"{name}: exit {r.ExitCode}: {r.Stderr.Trim()}");
            Assert.Equal(2, r.ExitCode);
            var errors = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
            Assert.Single(errors);
            Assert.StartsWith(expected, errors[0]);
        }
        var empty = corpus.Config("bad-range", corpus.Shards);
        File.WriteAllText(empty, File.ReadAllText(empty).Replace("train-{000000..", "train-{900000.."));
        var range = Cli.RunIn(corpus.Dir, TimeSpan.FromMinutes(2), TrainArgs(Path.Combine(corpus.Dir, "bad-range"), empty));
        Assert.Equal(2, range.ExitCode);
        Assert.StartsWith("error: data.train-shards: '", range.Stderr.Trim());
        Assert.Contains("expands to no shard", range.Stderr);
        output.WriteLine($"range: {range.Stderr.Trim()}");
    }

    [Fact]
    public void WithoutAnIndexTheShardsAreScannedToTheSameCountsOnceAndKept()
    {
        var bare = ServedCopy("bare");
        File.Delete(Path.Combine(bare, "index.json"));
        using var nginx = new NginxServer(bare);
        var labels = Compute.Data.LabelCsv.Load(corpus.Labels);
        var patterns = new[] { $"{nginx.Url}/train-{{000000..{corpus.TrainShards - 1:D6}}}.tar" };
        var indexes = Path.Combine(corpus.Dir, "bare-index");
        var cache = ShardCache.For(new ShardCacheSettings(Path.Combine(corpus.Dir, "cache-bare"), 1L << 30, TimeSpan.FromSeconds(10)));
        using var scanned = ShardCorpus.Load(patterns, "data.train-shards", cache, indexes, 4, 2, labels, withLabels: false, _ => { });
        var index = ShardIndexFile.Parse(File.ReadAllText(Path.Combine(corpus.Shards, "index.json")), "index.json");
        Assert.Equal(index.Shards.Where(s => s.Name.StartsWith("train-")).Select(s => (s.Samples, s.Bytes)), scanned.Shards.Select(s => (s.Samples, s.Bytes)));
        var requests = nginx.Requests;
        using var again = ShardCorpus.Load(patterns, "data.train-shards", cache, indexes, 4, 2, labels, withLabels: false, _ => { });
        Assert.Equal(requests, nginx.Requests); // the counts were kept in the run's index folder: nothing fetched again
        Assert.Equal(scanned.Count, again.Count);
    }

    [Fact]
    public void ACacheTooSmallForTheWindowsReadAtOnceStopsTheRunWithASentence()
    {
        using var nginx = new NginxServer(corpus.Shards);
        var config = corpus.Config("small-cache", nginx.Url, "data.shard-cache.max-gb = 0.0002");
        var r = Cli.RunIn(corpus.Dir, TimeSpan.FromMinutes(2), TrainArgs(Path.Combine(corpus.Dir, "small-cache"), config));
        var error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("error:"));
        output.WriteLine(error);
        Assert.Equal(1, r.ExitCode); // the run failed, at once: no restart can make the cache larger
        Assert.StartsWith("error: data.shard-cache.max-gb: is 0.0002 GB, below the 0.00", error);
        Assert.DoesNotContain("restarts", error);
    }
}
