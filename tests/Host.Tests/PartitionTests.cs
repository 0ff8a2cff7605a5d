using System.Diagnostics;
using ActorTraining.Actors;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// Network partitions with real packets dropped (<see cref="LoopbackPartition"/>): three nodes on 127.0.0.11, .12 and
/// .13, each under its own group id, PostgreSQL and the run directory reachable from all. A cut link says nothing — no
/// reset, no refusal — unlike the kill tests' SIGKILL, whose connections the kernel resets. Each run ends with every
/// training position trained exactly once and the weights of one node alone, and no rule outlives its test.
/// </summary>
[Trait("Category", "Slow")] // multi-process cluster: not in ./test --fast
[Collection(ClusterCollection.Name)]
public sealed class PartitionTests(ITestOutputHelper output, PostgresServer postgres, ClusterTests.Reference reference)
    : IClassFixture<PostgresServer>, IClassFixture<ClusterTests.Reference>, IDisposable
{
    static readonly string[] Hosts = ["127.0.0.11", "127.0.0.12", "127.0.0.13"];
    static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);
    readonly string _dir = Directory.CreateTempSubdirectory("partition-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>
    /// The three nodes, node <paramref name="first"/> (the first seed) started first. With all three awaited (min-nodes
    /// 3) they become members together, and the lowest address counts as the oldest: node 0 holds the coordinator and is
    /// member 0. With <paramref name="alone"/>, node <paramref name="first"/> forms the cluster and starts training by
    /// itself (min-nodes 1) before the others come: it is the oldest and holds the coordinator, wherever member 0 is.
    /// </summary>
    (LoopbackPartition Partition, ClusterNodes Nodes) Start(int first, bool alone = false)
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, ClusterTests.Experiment);
        var group = 47000 + Environment.ProcessId % 1000 * 3;
        var partition = new LoopbackPartition(Hosts.Select((h, i) => (h, group + i)).ToList());
        var nodes = new ClusterNodes(_dir, config, postgres.ConnectionString, nodes: 3, minNodes: alone ? 1 : 3, hosts: Hosts, partition: partition,
            seeds: [first, (first + 1) % 3]);
        nodes.Start(first);
        if (alone) nodes.WaitForTrace(t => t.Any(), TimeSpan.FromMinutes(2));
        else Thread.Sleep(2000);
        for (int i = 0; i < 3; i++)
            if (i != first) nodes.Start(i);
        return (partition, nodes);
    }

    int Coordinators(ClusterNodes nodes)
    {
        var holder = Enumerable.Range(0, nodes.Count).Where(i => nodes.Output(i).Contains("Singleton manager started singleton actor")).ToList();
        Assert.True(holder.Count == 1, $"the coordinator is on nodes [{string.Join(", ", holder)}]:\n{nodes.Outputs()}");
        return holder[0];
    }

    /// <summary>Cuts <paramref name="cut"/> off from the others once phase 0 has trained 20 steps; the survivors' first step after it.</summary>
    (long CutAt, long NextStep) CutOffAndWaitForTheSurvivors(LoopbackPartition partition, ClusterNodes nodes, int cut, Func<StepTrace.Line, bool>? when = null)
    {
        nodes.WaitForTrace(t => t.Any(when ?? (l => l is { Phase: 0, Step: >= 20 })), TimeSpan.FromMinutes(3));
        WaitUntilAllUp(nodes);
        int generation = nodes.Trace().Max(l => l.Generation);
        var cutAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        partition.Cut([Hosts[cut]], Hosts.Where((_, i) => i != cut).ToList());
        output.WriteLine($"cut {Hosts[cut]} off from the others in generation {generation}");
        var next = nodes.WaitForTrace(t => t.Any(l => l.UnixMs > cutAt && l.Generation > generation), TimeSpan.FromMinutes(2))
            .Where(l => l.UnixMs > cutAt && l.Generation > generation).Min(l => l.UnixMs);
        output.WriteLine($"the survivors' next optimiser step: {(next - cutAt) / 1000.0:F1} s after the cut");
        return (cutAt, next);
    }

    static string Notable(ClusterNodes nodes) => string.Join("\n", Enumerable.Range(0, nodes.Count).SelectMany(i =>
        nodes.Output(i).Split('\n').Where(l => l.Contains("restart") || l.Contains("fault") || l.Contains("[ERROR") || l.Contains("error:"))
            .Select(l => $"node {i}: {l.Trim()}")).Take(20));

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>
    /// Waits until node 0's membership view (its management endpoint) shows all three nodes Up. A node still Joining does
    /// not count for the split-brain resolver: cut off then, the side holding only Joining nodes would be the minority.
    /// </summary>
    static void WaitUntilAllUp(ClusterNodes nodes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = Http.GetStringAsync(new Uri(nodes.Management(0), "cluster/members")).GetAwaiter().GetResult();
                using var view = System.Text.Json.JsonDocument.Parse(last);
                if (view.RootElement.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "Up") == nodes.Count) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException) { last = e.Message; }
            Thread.Sleep(200);
        }
        Assert.Fail($"not all {nodes.Count} nodes Up within a minute: {last}\n{nodes.Outputs()}");
    }

    void WaitForExit(ClusterNodes nodes, params int[] which)
    {
        var deadline = DateTime.UtcNow + RunLimit;
        while (!which.All(nodes.HasExited))
        {
            Assert.True(DateTime.UtcNow < deadline, $"nodes {string.Join(", ", which)} did not finish:\n{nodes.Outputs()}");
            Thread.Sleep(200);
        }
    }

    /// <summary>
    /// Every position trained exactly once, the weights of one node alone, and one consistent history: generations
    /// numbered in increasing order, no step committed twice, and the checkpoints the run still relies on (each phase's last, the
    /// final one) present with the SHA-256 the journal recorded.
    /// </summary>
    void AssertTheRunIsWhole(ClusterNodes nodes)
    {
        var generations = ClusterTests.Generations(nodes, postgres.ConnectionString);
        // numbers are given out in order (a restart after a fault takes one too, so there may be gaps)
        Assert.True(generations.Zip(generations.Skip(1)).All(p => p.Item1.Generation < p.Item2.Generation), string.Join("\n", generations));
        output.WriteLine(Notable(nodes));
        output.WriteLine(ClusterTests.ExactlyOnce(nodes, generations));
        var commits = JournalEvents(nodes.RunDir, "CheckpointCommitted", postgres.ConnectionString)
            .Select(e => (Path: e.GetProperty("Path").GetString()!, Sha: e.GetProperty("Sha256").GetString()!, Phase: e.GetProperty("Phase").GetInt32(),
                Step: e.GetProperty("Step").GetInt64(), End: e.TryGetProperty("EpochComplete", out var end) && end.GetBoolean()))
            .ToList();
        foreach (var phase in commits.GroupBy(c => c.Phase))
        {
            // a step's checkpoint, then (at an epoch's last step) its epoch-end checkpoint: each at most once, in order
            var order = phase.Select(c => c.Step * 2 + (c.End ? 1 : 0)).ToList();
            Assert.True(order.Zip(order.Skip(1)).All(p => p.Item1 < p.Item2),
                $"phase {phase.Key}: steps committed out of order or twice: {string.Join(" ", phase.Select(c => c.End ? $"{c.Step}(end)" : $"{c.Step}"))}");
            var last = phase.Last();
            Assert.True(File.Exists(last.Path), $"{last.Path}: the journal's last checkpoint of phase {phase.Key} is missing");
            Assert.Equal(last.Sha, ActorTraining.Compute.Checkpoints.CheckpointFile.ReadHeader(last.Path).Sha256, ignoreCase: true); // verifies the file's own hash too
        }
        ClusterTests.AssertEndsLikeOneNode(nodes, postgres.ConnectionString, reference, ClusterTests.Experiment, output, bound: 3e-5);
    }

    /// <summary>The oldest node — coordinator and member 0 — cut off until the others have finished the run; then healed.</summary>
    [Fact]
    public void TheCoordinatorsNodeCutOffLeavesTheOthersToFinishAndEndsItselfOnceHealed()
    {
        var (partition, nodes) = Start(first: 0);
        using (partition)
        using (nodes)
        {
            var (cutAt, next) = CutOffAndWaitForTheSurvivors(partition, nodes, cut: 0);
            WaitForExit(nodes, 1, 2);
            var healed = Stopwatch.StartNew();
            partition.Heal();
            var codes = nodes.WaitAll(TimeSpan.FromSeconds(60));
            output.WriteLine($"the cut-off node ended {healed.Elapsed.TotalSeconds:F1} s after the heal (exit {codes[0]})");
            Assert.All(codes, code => Assert.True(code == 0, nodes.Outputs()));
            Assert.Contains("the run finished while this node was cut off from the cluster", nodes.Output(0));
            Assert.True(healed.Elapsed < TimeSpan.FromSeconds(10), $"the cut-off node took {healed.Elapsed.TotalSeconds:F1} s to end after the heal");
            AssertTheRunIsWhole(nodes);
            Assert.True(next - cutAt < 30_000, $"the survivors took {(next - cutAt) / 1000.0:F1} s to train again");
        }
        Assert.False(partition.Present, "an nftables rule outlived the test");
    }

    /// <summary>
    /// Node 2 cut off and healed once it has downed itself: it rejoins (or sees the run finished). Either another node
    /// (the coordinator on node 0, which is also member 0), or the coordinator itself — node 2 started first, alone, so it
    /// is the oldest — while member 0, the lowest address, which writes the checkpoints, stays on the majority side.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACutOffNodeDownsItselfCommitsNothingAndRejoinsWhenHealed(bool coordinators)
    {
        var (partition, nodes) = coordinators ? Start(first: 2, alone: true) : Start(first: 0);
        using (partition)
        using (nodes)
        {
            if (coordinators)
            {
                Assert.Equal(2, Coordinators(nodes));
                CutOffAndWaitForTheSurvivors(partition, nodes, cut: 2, when: l => l.World == 3); // once all three train together
            }
            else
            {
                CutOffAndWaitForTheSurvivors(partition, nodes, cut: 2);
                Assert.Equal(0, Coordinators(nodes));
            }
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (!nodes.Output(2).Contains("the cluster removed this node as unreachable"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the cut-off node did not down itself:\n{nodes.Outputs()}");
                Thread.Sleep(200);
            }
            partition.Heal();
            Assert.All(nodes.WaitAll(RunLimit), code => Assert.True(code == 0, nodes.Outputs()));
            var generations = ClusterTests.Generations(nodes, postgres.ConnectionString);
            output.WriteLine(string.Join("\n", generations));
            Assert.Contains(generations, g => g.Members == 2);
            // it came back, or the others finished first and it saw so
            bool rejoined = generations.SkipWhile(g => g.Members != 2).Any(g => g.Members == 3);
            Assert.True(rejoined || nodes.Output(2).Contains("the run finished while this node was cut off"), nodes.Output(2));
            output.WriteLine(rejoined ? "the cut-off node rejoined" : "the run finished before the cut-off node was back");
            AssertTheRunIsWhole(nodes);
        }
        Assert.False(partition.Present, "an nftables rule outlived the test");
    }

    /// <summary>
    /// Silences shorter than the failure detector's pause: a link cut for 2 s, then one that goes down and up every second
    /// for 12 s. Nothing changes: no node is downed, one generation trains each phase.
    /// </summary>
    [Fact]
    public void ACutHealedBeforeTheResolverDecidesAndAFlappingLinkChangeNothing()
    {
        var (partition, nodes) = Start(first: 0);
        using (partition)
        using (nodes)
        {
            nodes.WaitForTrace(t => t.Any(l => l is { Phase: 0, Step: >= 20 }), TimeSpan.FromMinutes(3));
            WaitUntilAllUp(nodes);
            partition.Cut([Hosts[1]], [Hosts[0], Hosts[2]]);
            Thread.Sleep(2000);
            partition.Heal();
            Thread.Sleep(2000);
            for (int i = 0; i < 6; i++)
            {
                partition.Cut([Hosts[2]], [Hosts[0], Hosts[1]]);
                Thread.Sleep(1000);
                partition.Heal();
                Thread.Sleep(1000);
            }
            Assert.All(nodes.WaitAll(RunLimit), code => Assert.True(code == 0, nodes.Outputs()));
            var generations = ClusterTests.Generations(nodes, postgres.ConnectionString);
            output.WriteLine(string.Join("\n", generations));
            Assert.All(generations, g => Assert.Equal(3, g.Members));
            Assert.Equal([0, 1], generations.Select(g => g.Phase)); // one generation a phase: none was ended
            Assert.DoesNotContain("removed this node", nodes.Outputs());
            AssertTheRunIsWhole(nodes);
        }
        Assert.False(partition.Present, "an nftables rule outlived the test");
    }
}
