using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using ActorTraining.Actors;
using ActorTraining.Compute.Distributed;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ActorTraining.Host.Running;

/// <summary>Where this node is and how it finds the cluster: <c>--node</c>, <c>--seed-nodes</c>, <c>--min-nodes</c>.</summary>
public sealed record NodeOptions(string Host, int Port, IReadOnlyList<(string Host, int Port)> SeedNodes, int MinNodes)
{
    /// <summary>A node alone, on loopback with a port the system picks: the default `train`.</summary>
    public static readonly NodeOptions Alone = new("127.0.0.1", 0, [], 1);

    public bool IsCluster => SeedNodes.Count > 0;
}

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
    public static string AddressOf(string host, int port) => $"akka.ssl.tcp://{SystemName}@{host}:{port}"; // TLS, see OnlyThisRun

    public static IHost Build(NodeOptions node, string runDirectory, string runId, string? postgres, RunSecret secret, bool verbose,
        IReadOnlyList<RunSettings> runs, IReadOnlyList<IReadOnlyList<RunSettings>> runsByRank, RecoverySettings recovery,
        Func<ActorSystem, IActorRef> listener)
    {
        var stores = PersistenceConfig.StoresOf(runDirectory, postgres);
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddAkka(SystemName, akka =>
        {
            akka.AddHocon(ActorSystemFactory.Logging(verbose), HoconAddMode.Prepend)
                .AddHocon(ActorSystemFactory.ClusterConfig(), HoconAddMode.Append)
                .AddHocon(PipelineDispatcher.Config(), HoconAddMode.Append)
                .AddHocon(ConfigurationFactory.ParseString(MessageSerializer.Config), HoconAddMode.Append)
                .AddHocon(ConfigurationFactory.ParseString($"akka.persistence.journal.sql.parallelism = {stores.Parallelism}\n" +
                    $"akka.persistence.journal.sql.recovery-event-timeout = {(int)Math.Ceiling(PersistenceConfig.RecoveryTimeout(runDirectory, postgres).TotalSeconds)}s"),
                    HoconAddMode.Prepend)
                .WithRemoting(node.Host, node.Port)
                // only the run's nodes get in: mutual TLS, and the peer must present exactly the run's certificate
                .AddHocon(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-ssl = true"), HoconAddMode.Prepend)
                .AddSetup(new DotNettySslSetup(secret.Certificate, suppressValidation: false, requireMutualAuthentication: true,
                    validateCertificateHostname: false, customValidator: OnlyThisRun(secret.Thumbprint)))
                .WithClustering(new ClusterOptions
                {
                    SeedNodes = node.SeedNodes.Select(s => AddressOf(s.Host, s.Port)).ToArray(),
                    MinimumNumberOfMembers = node.MinNodes,
                })
                .WithSqlPersistence(
                    new SqlJournalOptions(isDefaultPlugin: true) { ConnectionString = stores.Journal, ProviderName = stores.Provider, AutoInitialize = true },
                    new SqlSnapshotOptions(isDefaultPlugin: true) { ConnectionString = stores.Snapshots, ProviderName = stores.Provider, AutoInitialize = true })
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
                });
        });
        return builder.Build();
    }

    /// <summary>
    /// Accepts a TLS peer only if it presents the run's own certificate (pinned by thumbprint; it is self-signed, so
    /// there is no chain to trust); anything else is refused with a warning naming the peer.
    /// </summary>
    static CertificateValidationCallback OnlyThisRun(string thumbprint) => (certificate, _, peer, _, log) =>
    {
        if (certificate is not null && string.Equals(certificate.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase)) return true;
        log.Warning("refused a connection from {0}: it does not hold this run's secret (certificate {1})", peer,
            certificate is null ? "missing" : certificate.Thumbprint);
        return false;
    };
}
