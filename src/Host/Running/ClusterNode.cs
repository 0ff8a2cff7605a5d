using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using ActorTraining.Actors;
using ActorTraining.Compute.Distributed;
using Microsoft.Extensions.Hosting;

namespace ActorTraining.Host.Running;

/// <summary>
/// The `train` process as a node of its run's cluster, wired with Akka.Hosting: remoting bound to <c>--node</c>,
/// clustering with the seed nodes (a node alone joins itself) and the timings of cluster.hocon, the journal in SQLite
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
                    var self = cluster.SelfAddress;
                    var monitor = listener(system);
                    system.ActorOf(NodeRanks.Props($"{self.Host}:{self.Port}", runsByRank, node.Host, secret.RingKey, runs[0].ConfigHash,
                        registry.Get<RunCoordinator>(), monitor), "ranks");
                }));
}
