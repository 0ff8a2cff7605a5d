using System.Net;
using System.Text.Json;
using ActorTraining.Actors;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// Three `train` processes that find each other through Akka.Management's cluster bootstrap with config discovery
/// (`--discovery config:…`, the nodes' management endpoints) instead of seed nodes, and the endpoints' answers:
/// <c>/alive</c> at once, <c>/ready</c> only once the node's ranks are registered with the run's coordinator, the
/// membership view, and nothing else for a caller from outside the run.
/// </summary>
[Trait("Category", "Slow")] // a three-node cluster: not in ./test --fast
[Collection(ClusterCollection.Name)]
public sealed class ClusterDiscoveryTests(ITestOutputHelper output, PostgresServer postgres) : IClassFixture<PostgresServer>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("discovery-").FullName;
    static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void ThreeNodesFoundThroughConfigDiscoveryFormOneClusterAndTrainAndTheirEndpointsSayWhenTheyAreReady()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, ClusterTests.Experiment);
        using var nodes = new ClusterNodes(_dir, config, postgres.ConnectionString, nodes: 3, minNodes: 3, discovery: true);

        // one node alone: alive, not ready — three contact points are needed to form the cluster, so no coordinator exists
        nodes.Start(0);
        var alive = WaitFor(nodes, 0, "alive", s => s.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(90));
        Assert.Equal("alive", alive.Body.Trim());
        for (int i = 0; i < 5; i++)
        {
            var ready = Get(nodes.Management(0), "ready");
            Assert.True(ready.Status == HttpStatusCode.ServiceUnavailable && ready.Body.Trim() == "registering", $"{ready}\n{nodes.Outputs()}");
            Thread.Sleep(400);
        }
        Assert.Empty(Members(nodes, 0).GetProperty("members").EnumerateArray());

        nodes.Start(1);
        nodes.Start(2);
        for (int i = 0; i < 3; i++)
        {
            var ready = WaitFor(nodes, i, "ready", s => s.Status == HttpStatusCode.OK, TimeSpan.FromMinutes(2));
            Assert.Equal("registered", ready.Body.Trim());
        }
        var view = Members(nodes, 1);
        output.WriteLine(view.ToString());
        var members = view.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(3, members.Count);
        Assert.All(members, m => Assert.Equal("Up", m.GetProperty("status").GetString()));
        Assert.Equal(Enumerable.Range(0, 3).Select(i => $"akka.ssl.tcp://actortraining@{nodes.Node(i)}").Order(),
            members.Select(m => m.GetProperty("node").GetString()).Order());
        Assert.Equal($"akka.ssl.tcp://actortraining@{nodes.Node(1)}", view.GetProperty("selfNode").GetString());

        // nothing that changes the cluster, and nothing of the run, for a caller the endpoint cannot tell from the run's own
        using (var down = Http.Send(new HttpRequestMessage(HttpMethod.Delete, new Uri(nodes.Management(0), "cluster/members"))))
            Assert.NotEqual(HttpStatusCode.OK, down.StatusCode);
        using (var leave = Http.Send(new HttpRequestMessage(HttpMethod.Put, new Uri(nodes.Management(0), "cluster/members")) { Content = new StringContent("operation=Leave") }))
            Assert.NotEqual(HttpStatusCode.OK, leave.StatusCode);
        var runId = File.ReadAllText(Path.Combine(nodes.RunDir, RunIdentity.FileName)).Trim();
        foreach (var path in new[] { "alive", "ready", "cluster/members", "bootstrap/seed-nodes" })
        {
            var answer = Get(nodes.Management(2), path);
            Assert.DoesNotContain(runId, answer.Body);
            Assert.DoesNotContain(nodes.RunDir, answer.Body);
            Assert.DoesNotContain("Host=", answer.Body);
        }

        Assert.All(nodes.WaitAll(RunLimit), code => Assert.True(code == 0, nodes.Outputs()));
        for (int i = 0; i < 3; i++) Assert.Contains("found through --discovery config:", nodes.Output(i));
        var generations = JournalEvents(nodes.RunDir, "GenerationFormed", postgres.ConnectionString).Select(e => e.GetProperty("Members").GetArrayLength()).ToList();
        Assert.NotEmpty(generations);
        Assert.All(generations, members => Assert.Equal(3, members));
        Assert.NotNull(FinalCheckpoint(nodes.RunDir, phase: 1, epoch: 2, postgres.ConnectionString));
    }

    sealed record Answer(HttpStatusCode Status, string Body);

    static Answer Get(Uri management, string path)
    {
        try
        {
            using var response = Http.GetAsync(new Uri(management, path)).GetAwaiter().GetResult();
            return new Answer(response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        }
        catch (HttpRequestException e) { return new Answer(0, e.Message); }
        catch (TaskCanceledException e) { return new Answer(0, e.Message); }
    }

    static JsonElement Members(ClusterNodes nodes, int i)
    {
        var answer = Get(nodes.Management(i), "cluster/members");
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        return JsonDocument.Parse(answer.Body).RootElement;
    }

    /// <summary>Polls node <paramref name="i"/>'s <paramref name="path"/> until <paramref name="when"/> holds (bounded; fails when the node exited).</summary>
    static Answer WaitFor(ClusterNodes nodes, int i, string path, Func<Answer, bool> when, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        Answer last = new(0, "");
        while (DateTime.UtcNow < deadline && !nodes.HasExited(i))
        {
            last = Get(nodes.Management(i), path);
            if (when(last)) return last;
            Thread.Sleep(200);
        }
        Assert.Fail($"node {i}'s /{path} answered {last} (exited: {nodes.HasExited(i)}) after {limit.TotalSeconds:F0} s:\n{nodes.Outputs()}");
        return last;
    }
}
