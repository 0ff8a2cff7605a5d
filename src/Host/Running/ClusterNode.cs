using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using ActorTraining.Compute.Training;
using ActorTraining.Actors;
using ActorTraining.Compute.Distributed;
using Microsoft.Extensions.Hosting;

namespace ActorTraining.Host.Running;

/// <summary>
/// The `train` process as a node of its run's cluster, wired with Akka.Hosting: remoting bound to <c>--node</c>,
/// clustering with the seed nodes or through discovery (a node alone joins itself) and the timings of cluster.hocon,
/// the management endpoint (<see cref="AkkaSetup.WithRunManagement"/>), the journal in SQLite
/// or PostgreSQL, the run's <see cref="RunCoordinator"/> as a cluster singleton with its proxy, and this node's
/// <see cref="NodeRanks"/> and listener. Configuration and wiring only.
/// </summary>
public static class ClusterNode
{
    public const string SystemName = "actortraining";
    public const string CoordinatorName = "run-coordinator";

    /// <summary>The Akka address of a node at host:port.</summary>
    public static string AddressOf(string host, int port) => $"akka.ssl.tcp://{SystemName}@{host}:{port}"; // TLS, see AkkaSetup.WithRunRemoting

    public static IHost Build(NodeOptions node, string runDirectory, string runId, string? postgres, RunSecret secret, bool verbose,
        IReadOnlyList<RunSettings> runs, IReadOnlyList<IReadOnlyList<RunSettings>> runsByRank, RecoverySettings recovery,
        Func<ActorSystem, IActorRef> listener) =>
        AkkaSetup.Host(SystemName, verbose, akka => akka
                .WithClusterTimings()
                .WithRunJournal(runDirectory, postgres)
                .WithRunRemoting(node.Host, node.Port, secret)
                .WithRunManagement(node)
                .WithClustering(new ClusterOptions
                {
                    SeedNodes = node.SeedNodes.Select(s => AddressOf(s.Host, s.Port)).ToArray(),
                    MinimumNumberOfMembers = node.MinNodes,
                })
                .WithSingleton<RunCoordinator>(CoordinatorName, RunCoordinator.Props(runs, runId, node.MinNodes, recovery),
                    new ClusterSingletonOptions(), createProxyToo: true)
                .WithActors((system, registry) =>
                {
                    var cluster = Cluster.Get(system);
                    if (!node.IsCluster) cluster.Join(cluster.SelfAddress); // alone: a cluster of one
                    if (node.Discovery is not null) GiveUpUnjoined(system, cluster);
                    var self = cluster.SelfAddress;
                    var monitor = listener(system);
                    system.ActorOf(NodeRanks.Props($"{self.Host}:{self.Port}", runsByRank, node.Host, secret.RingKey, runs[0].ConfigHash,
                        registry.Get<RunCoordinator>(), monitor), "ranks");
                }));

    /// <summary>Starts the node's management endpoint and, with discovery, the cluster bootstrap; a port already taken is
    /// one line naming --management-port. <paramref name="waitForPort"/>: how long to try again while the port is taken
    /// (a node joining again binds it right after its previous actor system let it go).</summary>
    public static async Task StartManagement(ActorSystem system, NodeOptions node, TimeSpan waitForPort)
    {
        if (node.ManagementPort is not { } port) return;
        try { await ManagementEndpoint.Start(system, System.Net.IPAddress.Parse(node.Host), port, waitForPort); }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ConfigException("--management-port", $"{node.Host}:{port} cannot be bound ({e.Message}); choose a free port");
        }
        if (node.Discovery is not null) await ClusterBootstrap.Get(system).Start();
    }

    /// <summary>The bootstrap probes for ever; like a node whose seed nodes never answer, one that found no cluster gives
    /// up after <c>shutdown-after-unsuccessful-join-seed-nodes</c> (cluster.hocon).</summary>
    static void GiveUpUnjoined(ActorSystem system, Cluster cluster)
    {
        var limit = system.Settings.Config.GetTimeSpan("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes");
        system.Scheduler.Advanced.ScheduleOnce(limit, () =>
        {
            if (!cluster.State.Members.Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress)))
                CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterJoinUnsuccessfulReason.Instance);
        });
    }
}
