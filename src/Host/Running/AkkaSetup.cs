using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;
using Akka.Discovery.Config.Hosting;
using Akka.Discovery.KubernetesApi;
using Akka.Management;
using Akka.Management.Cluster.Bootstrap;
using ActorTraining.Actors;
using ActorTraining.Compute.Distributed;
using ActorTraining.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ActorTraining.Host.Running;

/// <summary>The pieces every actor system of the CLI is built from, as Akka.Hosting extensions.</summary>
public static class AkkaSetup
{
    /// <summary>A host (not started) with the actor system <paramref name="name"/>: the CLI defaults, then <paramref name="configure"/>.</summary>
    public static IHost Host(string name, bool verbose, Action<AkkaConfigurationBuilder> configure)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddAkka(name, akka => configure(akka.WithCliDefaults(verbose)));
        return builder.Build();
    }

    /// <summary>Logging through <see cref="CliLogger"/> (INFO with --verbose, else warnings and errors), the control messages'
    /// serializer, the pipeline dispatcher and the fixed settings (actortraining.hocon, embedded).</summary>
    public static AkkaConfigurationBuilder WithCliDefaults(this AkkaConfigurationBuilder akka, bool verbose) => akka
        .AddHocon(ConfigurationFactory.FromResource<CliLogger>("ActorTraining.Host.actortraining.hocon"), HoconAddMode.Append)
        .ConfigureLoggers(log =>
        {
            log.LogLevel = verbose ? LogLevel.InfoLevel : LogLevel.WarningLevel;
            log.ClearLoggers();
            log.AddLogger<CliLogger>();
        })
        .AddSetup(new CliLogger.Options(verbose))
        .WithCustomSerializer("control-messages", [typeof(IControlMessage)], system => new MessageSerializer(system));

    /// <summary>The run's journal and snapshot store (<see cref="PersistenceConfig.StoresOf"/>): SQLite in the run directory, or PostgreSQL.</summary>
    public static AkkaConfigurationBuilder WithRunJournal(this AkkaConfigurationBuilder akka, string runDirectory, string? postgres)
    {
        var stores = PersistenceConfig.StoresOf(runDirectory, postgres);
        return akka
            .WithSqlPersistence(
                new SqlJournalOptions(isDefaultPlugin: true) { ConnectionString = stores.Journal, ProviderName = stores.Provider, AutoInitialize = true },
                new SqlSnapshotOptions(isDefaultPlugin: true) { ConnectionString = stores.Snapshots, ProviderName = stores.Provider, AutoInitialize = true })
            // what the options above do not carry: SQLite takes one writer; a large journal may take longer to read
            .AddHocon(Settings(
                ("akka.persistence.journal.sql.parallelism", stores.Parallelism),
                ("akka.persistence.journal.sql.recovery-event-timeout", $"{Math.Ceiling(PersistenceConfig.RecoveryTimeout(runDirectory, postgres).TotalSeconds)}s")),
                HoconAddMode.Prepend);
    }

    /// <summary>
    /// Remoting bound to <paramref name="host"/>:<paramref name="port"/> over mutual TLS: only the run's nodes get in —
    /// the peer must present exactly the run's certificate (pinned by thumbprint; it is self-signed, so there is no chain to trust).
    /// </summary>
    public static AkkaConfigurationBuilder WithRunRemoting(this AkkaConfigurationBuilder akka, string host, int port, RunSecret secret) => akka
        // Control messages only (largest: a node's registration, a scored part of an evaluation batch, ~90 kB); tensors
        // never travel through Akka. A message above this size would be dropped by remoting.
        .WithRemoting(new RemoteOptions { HostName = host, Port = port, EnableSsl = true, MaxFrameSize = 128_000 })
        .AddSetup(new DotNettySslSetup(secret.Certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, customValidator: OnlyThisRun(secret.Thumbprint)));

    /// <summary>
    /// The node's Akka.Management HTTP endpoint, bound to <see cref="NodeOptions.Host"/> only, with this node's routes
    /// (<see cref="NodeManagementRoutes"/>) and, when it finds its cluster by discovery, the bootstrap's contact-point
    /// route; Akka.Management's other routes are off. Nothing here when the node has no management port. Started by
    /// <see cref="ClusterNode.StartManagement"/>, which turns a port already taken into one line.
    /// </summary>
    public static AkkaConfigurationBuilder WithRunManagement(this AkkaConfigurationBuilder akka, NodeOptions node)
    {
        if (node.ManagementPort is not { } port) return akka;
        akka.WithAkkaManagement(new AkkaManagementOptions
        {
            HostName = node.Host,
            Port = port,
            BindHostName = node.Host,
            BindPort = port,
            RouteProvidersReadOnly = true,
            RouteProviders = new()
            {
                ["remote-address"] = null,
                ["cluster-client-receptionist"] = null,
                ["actortraining"] = typeof(NodeManagementRoutes),
            },
        });
        // the bootstrap's contact-point route (reference.conf's "cluster-bootstrap") stays only where discovery needs it
        if (node.Discovery is null) akka.AddHocon("akka.management.http.routes.cluster-bootstrap = \"\"", HoconAddMode.Prepend);
        if (node.Discovery is null) return akka;
        var bootstrap = new ClusterBootstrapOptions
        {
            NewClusterEnabled = node.MayFormCluster,
            ContactPointDiscovery =
            {
                ServiceName = node.Discovery is ClusterDiscovery.Kubernetes kubernetes ? kubernetes.App : ClusterNode.SystemName,
                PortName = node.Discovery is ClusterDiscovery.Kubernetes ? "management" : null,
                RequiredContactPointsNr = node.Discovery.RequiredContactPoints(node.MinNodes),
            },
            // config discovery lists each contact point with its own management port: none is filtered out by port
            ContactPoint = { FilterOnFallbackPort = node.Discovery is ClusterDiscovery.Kubernetes },
        };
        return (node.Discovery switch
            {
                ClusterDiscovery.Config c => akka.WithConfigDiscovery(new ConfigServiceDiscoveryOptions
                {
                    Services = [new Service { Name = ClusterNode.SystemName, Endpoints = c.ContactPoints.Select(p => $"{p.Host}:{p.Port}").ToArray() }],
                }),
                ClusterDiscovery.Kubernetes => akka.WithKubernetesDiscovery(new KubernetesDiscoveryOptions { PodLabelSelector = "app=%s" }),
                _ => throw new ArgumentOutOfRangeException(nameof(node), node.Discovery, "unknown discovery"),
            })
            .WithClusterBootstrap(bootstrap, autoStart: false);
    }

    /// <summary>cluster.hocon, copied beside the executable: the timings of a cluster run a user may tune.</summary>
    public static AkkaConfigurationBuilder WithClusterTimings(this AkkaConfigurationBuilder akka)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "cluster.hocon");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: cluster.hocon is missing beside the executable", path);
        return akka.AddHocon(ConfigurationFactory.ParseString(File.ReadAllText(path)), HoconAddMode.Append);
    }

    static CertificateValidationCallback OnlyThisRun(string thumbprint) => (certificate, _, peer, _, log) =>
    {
        if (certificate is not null && string.Equals(certificate.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase)) return true;
        log.Warning("refused a connection from {0}: it does not hold this run's secret (certificate {1})", peer,
            certificate is null ? "missing" : certificate.Thumbprint);
        return false;
    };

    /// <summary>Settings computed at run time, by path, as a config (no HOCON text).</summary>
    static Config Settings(params (string Path, object Value)[] settings)
    {
        var root = new Dictionary<string, object>();
        foreach (var (path, value) in settings)
        {
            var keys = path.Split('.');
            var node = root;
            foreach (var key in keys[..^1])
                node = (Dictionary<string, object>)(node.TryGetValue(key, out var child) ? child : node[key] = new Dictionary<string, object>());
            node[keys[^1]] = value;
        }
        return ConfigurationFactory.FromObject(root);
    }
}
