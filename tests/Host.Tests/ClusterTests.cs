using System.Text.Json;
using ActorTraining.Actors;
using ActorTraining.Compute.Distributed;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>Cluster tests run alone: three training processes on two cores are all the machine can take.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}

/// <summary>
/// The cluster as real processes on 127.0.0.1 (every node runs the same `train` command with its own --node; the journal
/// in a private PostgreSQL server): three nodes train the run to the end; a node killed with -9 mid-epoch — another
/// one, or the one holding the coordinator — costs the survivors at most the step in flight and the run finishes without
/// any command; the killed node started again rejoins; all nodes killed and started again resume from the last commit.
/// Every run ends with the weights of a one-node run of the same global batch (within 1e-5 relative), and the step
/// traces of the nodes prove that every training position of every epoch was trained exactly once.
/// </summary>
[Trait("Category", "Slow")] // multi-process cluster: not in ./test --fast
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper output, PostgresServer postgres, ClusterTests.Reference reference)
    : IClassFixture<PostgresServer>, IClassFixture<ClusterTests.Reference>, IDisposable
{
    const int Clips = 360, Batch = 10, StepsPerEpoch = Clips / Batch;

    // 6 classes × 60 clips, batch 10: 36 steps an epoch; pool C=2 then C=1, 3 epochs each (~15 s of training on three
    // nodes). The ranks' only difference from one node is the order in which gradients are summed; lr 1e-4 keeps this
    // model learning smoothly, where that difference stays ~3e-6 after the 216 steps. (At lr 1e-3 the same model does not
    // learn, and the rounding differences grow to ~15 % by the end, for 3 ranks in one process just the same.)
    public const string Experiment = """
        data.synthetic { train-clips-per-class = 60, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 10, checkpoint-every-steps = 6, seed = 3, stall-timeout-seconds = 120 }
        curriculum = [
          { method = pool, factor = 2, epochs = 3, lr = 1e-4, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 3, lr = 1e-4, warmup-steps = 4 }
        ]
        compare = []
        """;

    /// <summary>
    /// The rejoin test's experiment: the same run with a larger model (dim 192, depth 4), ~3× slower a step, so the
    /// survivors are still training when the killed node's command, started again, has come up (~15 s beside two training
    /// nodes on this machine's two cores). Its ranks differ from one node by ~5e-6 after the 216 steps.
    /// </summary>
    static readonly string LargerExperiment = Experiment + "\nmodel { embed-dim = 192, depth = 4, heads = 4 }\n";

    /// <summary>Each experiment trained by one node alone (SQLite journal): the weights every cluster run of it must end with.</summary>
    public sealed class Reference : IDisposable
    {
        readonly string _dir = Directory.CreateTempSubdirectory("cluster-reference-").FullName;
        readonly Dictionary<string, float[]> _weights = new();

        public float[] Weights(string experiment)
        {
            lock (_weights)
            {
                if (_weights.TryGetValue(experiment, out var known)) return known;
                var dir = Path.Combine(_dir, $"r{_weights.Count}");
                Directory.CreateDirectory(dir);
                var config = Path.Combine(dir, "experiment.hocon");
                File.WriteAllText(config, experiment);
                var run = Path.Combine(dir, "run");
                var r = Cli.RunIn(dir, TimeSpan.FromMinutes(5), "train", "--config", config, "--run-dir", run, "--torch-threads", "1");
                Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
                return _weights[experiment] = TrainedRunProbe.Weights(FinalCheckpoint(run, phase: 1, epoch: 2));
            }
        }

        public void Dispose()
        {
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }

    readonly string _dir = Directory.CreateTempSubdirectory("cluster-").FullName;
    static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);

    string _experiment = Experiment;

    ClusterNodes Nodes(string? experiment = null)
    {
        _experiment = experiment ?? Experiment;
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, _experiment);
        return new ClusterNodes(_dir, config, postgres.ConnectionString, nodes: 3, minNodes: 3);
    }

    [Fact]
    public void ThreeNodesTrainTheRunToTheEndWithTheWeightsOfOneNode()
    {
        using var nodes = Nodes();
        nodes.StartAll();
        Assert.All(nodes.WaitAll(RunLimit), code => Assert.True(code == 0, nodes.Outputs()));
        var generations = Generations(nodes);
        Assert.All(generations, g => Assert.Equal(3, g.Members));
        Assert.Equal([0, 1], generations.Select(g => g.Phase));
        AssertEndsLikeOneNode(nodes);
        output.WriteLine(ExactlyOnce(nodes, generations));
    }

    [Fact]
    public void ANodeKilledMidEpochCostsTheSurvivorsAtMostTheStepInFlight() => KillOneNodeMidEpoch(coordinators: false);

    [Fact]
    public void TheCoordinatorsNodeKilledMidEpochLikewise() => KillOneNodeMidEpoch(coordinators: true);

    void KillOneNodeMidEpoch(bool coordinators)
    {
        using var nodes = Nodes();
        nodes.StartAll();
        var before = nodes.WaitForTrace(t => t.Any(l => l is { Phase: 0, Generation: 0, Step: >= 20 }), TimeSpan.FromMinutes(3));
        // the coordinator (the cluster singleton) runs on the oldest node: its log says so
        var holder = Enumerable.Range(0, nodes.Count).Where(i => nodes.Output(i).Contains("Singleton manager started singleton actor")).ToList();
        Assert.True(holder.Count == 1, $"the coordinator is on nodes [{string.Join(", ", holder)}]:\n{nodes.Outputs()}");
        int victim = coordinators ? holder[0] : Enumerable.Range(0, nodes.Count).Last(i => i != holder[0]);
        var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        nodes.Kill(victim);
        output.WriteLine($"killed node {victim} ({nodes.Node(victim)}{(coordinators ? ", the coordinator's" : "")}) after step {before.Max(l => l.Step)} of phase 1");
        var codes = nodes.WaitAll(RunLimit);
        for (int i = 0; i < nodes.Count; i++)
            if (i != victim) Assert.True(codes[i] == 0, nodes.Outputs());
        var generations = Generations(nodes);
        var after = generations.First(g => g.Members == 2);
        var firstStep = nodes.Trace().Where(l => l.Generation == after.Generation).Min(l => l.UnixMs);
        output.WriteLine($"next generation {after.Generation}: {after.Members} members from {after.StartedFrom} state at step {after.Step}; " +
                         $"first step {(firstStep - killedAt) / 1000.0:F1} s after the kill");
        Assert.Equal("live", after.StartedFrom); // the survivors went on from what they held, not from a checkpoint
        Assert.All(generations.SkipWhile(g => g.Generation < after.Generation), g => Assert.Equal(2, g.Members));
        Assert.True(firstStep - killedAt < 60_000, "the survivors took more than a minute to train again");
        output.WriteLine(ExactlyOnce(nodes, generations));
        // This model's rounding differences between splits of the batch grow faster than the small one's: 1.10e-5 was
        // measured once (a fresh-clone suite, 2026-12-03: 75 of its 216 steps on two members of three). A step trained
        // twice or skipped moves Adam's weights by about lr = 1e-4 each against weights of about 0.02, some 5e-3 — far
        // above this bound; which positions were trained is checked exactly by ExactlyOnce above.
        AssertEndsLikeOneNode(nodes, bound: 3e-5);
    }

    /// <summary>
    /// The killed node's command run again at once: its new incarnation joins the cluster once the old one is removed,
    /// its rank fetches weights, optimiser state and RNG from a live rank over the data plane (not from a checkpoint file),
    /// and the generation has three members again. (Whether the survivors first train a generation of two depends on
    /// which comes first on the machine: the failover decision or the restarted process; both are fine.)
    /// </summary>
    [Fact]
    public void TheKilledNodeStartedAgainRejoinsAndTheGenerationGrowsBack()
    {
        using var nodes = Nodes(LargerExperiment);
        nodes.StartAll();
        // its command started again takes ~5 s on a quiet machine, ~15 s beside two training nodes
        nodes.WaitForTrace(t => t.Any(l => l is { Phase: 0, Generation: 0, Step: >= 3 }), TimeSpan.FromMinutes(3));
        var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        nodes.Kill(2);
        nodes.Start(2);
        Assert.All(nodes.WaitAll(RunLimit), code => Assert.True(code == 0, nodes.Outputs()));
        var rejoined = nodes.Trace().Where(l => l.UnixMs > killedAt && l.Generation > 0 && l.World == 3).Select(l => l.UnixMs).DefaultIfEmpty(0).Min();
        output.WriteLine(rejoined > 0 ? $"the restarted node trained again {(rejoined - killedAt) / 1000.0:F1} s after the kill" : "the restarted node never trained");
        var generations = Generations(nodes);
        output.WriteLine(string.Join("\n", generations.Select(g => $"generation {g.Generation}: {g.Members} members, phase {g.Phase} epoch {g.Epoch} position {g.Position} step {g.Step}, {g.StartedFrom}")));
        var grown = generations.Skip(1).FirstOrDefault(g => g.Members == 3);
        Assert.True(grown is not null, "no generation of three after the loss");
        // joined in a phase: the rejoined rank took the state from a live one, not from a file (at a phase's start all load its transfer checkpoint)
        if (grown.StartedFrom == "live") Assert.Contains("fetched from", nodes.Output(2));
        output.WriteLine(ExactlyOnce(nodes, generations));
        // This model's rounding differences between splits of the batch grow faster than the small one's: 1.10e-5 was
        // measured once (a fresh-clone suite, 2026-12-03: 75 of its 216 steps on two members of three). A step trained
        // twice or skipped moves Adam's weights by about lr = 1e-4 each against weights of about 0.02, some 5e-3 — far
        // above this bound; which positions were trained is checked exactly by ExactlyOnce above.
        AssertEndsLikeOneNode(nodes, bound: 3e-5);
    }

    [Fact]
    public void AllNodesKilledAndStartedAgainResumeFromTheLastCommit()
    {
        using var nodes = Nodes();
        nodes.StartAll();
        nodes.WaitForTrace(_ => Commits(nodes.RunDir, postgres.ConnectionString).Any(c => c is { Phase: 0, Epoch: 1, EpochComplete: false }), TimeSpan.FromMinutes(3));
        for (int i = 0; i < nodes.Count; i++) nodes.Kill(i);
        var last = Commits(nodes.RunDir, postgres.ConnectionString).Last();
        output.WriteLine($"all nodes killed after the commit of phase 1 epoch {last.Epoch + 1} step {last.Step}");
        nodes.StartAll();
        Assert.All(nodes.WaitAll(RunLimit), code => Assert.True(code == 0, nodes.Outputs()));
        var resumed = Generations(nodes).First(g => g.Generation > 0 && g.Phase == 0);
        Assert.Equal(("checkpoint", last.Step), (resumed.StartedFrom, resumed.Step));
        Assert.Single(JournalEvents(nodes.RunDir, "RunStarted", postgres.ConnectionString));
        output.WriteLine(ExactlyOnce(nodes, Generations(nodes)));
        AssertEndsLikeOneNode(nodes);
    }

    /// <summary>What the nodes' logs say about faults, restarts and state transfers.</summary>
    static string Notable(ClusterNodes nodes) => string.Join("\n", Enumerable.Range(0, nodes.Count).SelectMany(i =>
        nodes.Output(i).Split('\n').Where(l => l.Contains("fault") || l.Contains("restart") || l.Contains("fetched") || l.Contains("[ERROR"))
            .Select(l => $"node {i}: {l.Trim()}")).Take(40));

    /// <summary>A <c>GenerationFormed</c> event as the journal holds it.</summary>
    public sealed record Formed(int Generation, int Members, int Phase, int Epoch, long Position, long Step, string StartedFrom);

    List<Formed> Generations(ClusterNodes nodes) => Generations(nodes, postgres.ConnectionString);

    public static List<Formed> Generations(ClusterNodes nodes, string postgres) => JournalEvents(nodes.RunDir, "GenerationFormed", postgres)
        .Select(e => new Formed(e.GetProperty("Generation").GetInt32(), e.GetProperty("Members").GetArrayLength(), e.GetProperty("Phase").GetInt32(),
            e.GetProperty("Epoch").GetInt32(), e.GetProperty("Position").GetInt64(), e.GetProperty("Step").GetInt64(), e.GetProperty("StartedFrom").GetString()!))
        .ToList();

    void AssertEndsLikeOneNode(ClusterNodes nodes, double bound = 1e-5) => AssertEndsLikeOneNode(nodes, postgres.ConnectionString, reference, _experiment, output, bound);

    public static void AssertEndsLikeOneNode(ClusterNodes nodes, string postgres, Reference reference, string experiment, ITestOutputHelper output, double bound = 1e-5)
    {
        output.WriteLine(Notable(nodes));
        var weights = Weights(FinalCheckpoint(nodes.RunDir, phase: 1, epoch: 2, postgres));
        var drift = RelativeDistance(reference.Weights(experiment), weights);
        output.WriteLine($"final weights against one node alone: ‖Δw‖/‖w‖ = {drift:E2}");
        Assert.True(drift <= bound, $"the cluster's final weights drift {drift:E2} from a one-node run (bound {bound:E0})");
    }

    /// <summary>
    /// How the test knows every training position of every epoch was trained exactly once. The journal lists the
    /// generations and where each started (phase, epoch, position, step); the steps a generation took that count are those
    /// up to where its successor started (a step taken by some member after that point — the one in flight when a node
    /// died — was redone by the next generation and is not part of the model). For each counted step, the positions its
    /// members trained (each member's trace line; a member killed before writing its line has its part computed from
    /// the generation's split of that global batch) are put together: every epoch of every phase must come out as each of
    /// its positions exactly once.
    /// </summary>
    public static string ExactlyOnce(ClusterNodes nodes, List<Formed> generations)
    {
        var trace = nodes.Trace().Where(l => l.Taken).ToList();
        var seen = new Dictionary<(int Phase, int Epoch), List<long>>();
        int counted = 0, redone = 0, inferred = 0;
        for (int i = 0; i < generations.Count; i++)
        {
            var g = generations[i];
            var next = generations.Skip(i + 1).FirstOrDefault();
            long until = next is not null && next.Phase == g.Phase ? next.Step : long.MaxValue;
            var lines = trace.Where(l => l.Generation == g.Generation).ToList();
            foreach (var step in lines.GroupBy(l => l.Step).OrderBy(s => s.Key))
            {
                if (step.Key > until) { redone++; continue; }
                counted++;
                var any = step.First();
                var positions = step.GroupBy(l => l.Member).SelectMany(m => m.First().Positions).ToList();
                foreach (var missing in Enumerable.Range(0, g.Members).Where(m => step.All(l => l.Member != m)))
                {
                    // the member's part of that global batch, by the split every member used
                    long origin = any.Epoch == g.Epoch ? g.Position : 0;
                    var share = DataShare.Slice(Batch, missing, g.Members).Of(origin, Clips);
                    var (start, end) = share.Range(share.BatchOf(any.EndPosition - 1));
                    positions.AddRange(Enumerable.Range((int)start, (int)(end - start)).Select(p => (long)p));
                    inferred++;
                }
                var key = (any.Phase, any.Epoch);
                if (!seen.TryGetValue(key, out var list)) seen[key] = list = [];
                list.AddRange(positions);
            }
        }
        foreach (var ((phase, epoch), positions) in seen)
            Assert.True(positions.Order().SequenceEqual(Enumerable.Range(0, Clips).Select(p => (long)p)),
                $"phase {phase} epoch {epoch}: {positions.Count} positions trained, {positions.Distinct().Count()} distinct, of {Clips}");
        Assert.Equal(6, seen.Count);
        Assert.Equal(6 * StepsPerEpoch, counted);
        return $"every position of the 6 epochs trained exactly once: {counted} steps counted in {generations.Count} generations, " +
               $"{redone} member step(s) in flight at a loss redone, {inferred} member part(s) of a counted step taken from the split (member killed before writing it)";
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
