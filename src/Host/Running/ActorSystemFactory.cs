using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using ActorTraining.Actors;

namespace ActorTraining.Host.Running;

/// <summary>
/// The host's actor system: cluster.hocon (copied beside the executable) as a single-node cluster that joins
/// itself, the run's persistence (SQLite files in the run directory, or PostgreSQL), the pipeline dispatcher.
/// </summary>
public static class ActorSystemFactory
{
    public static Config ClusterConfig()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "cluster.hocon");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: cluster.hocon is missing beside the executable", path);
        return ConfigurationFactory.ParseString(File.ReadAllText(path));
    }

    /// <summary>
    /// Logging of every actor system the CLI starts: through <see cref="CliLogger"/> (no exception details unless
    /// verbose), warnings and errors, INFO with --verbose; Akka's start-up/shut-down printer only when verbose.
    /// </summary>
    public static Config Logging(bool verbose) => ConfigurationFactory.ParseString($$"""
        akka.loggers = ["{{typeof(CliLogger).AssemblyQualifiedName}}"]
        akka.loglevel = {{(verbose ? "INFO" : "WARNING")}}
        akka.stdout-loglevel = {{(verbose ? "WARNING" : "OFF")}}
        {{CliLogger.VerboseKey}} = {{(verbose ? "on" : "off")}}
        """);

    public static ActorSystem Create(string runDirectory, string? postgres, bool verbose)
    {
        var config = Logging(verbose)
            .WithFallback(ClusterConfig())
            .WithFallback(PersistenceConfig.ForRun(runDirectory, postgres))
            .WithFallback(PipelineDispatcher.Config());
        var system = ActorSystem.Create("actortraining", config);
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        if (!up.Task.Wait(TimeSpan.FromSeconds(30)))
            throw new TimeoutException("the single-node cluster did not come up within 30 s");
        return system;
    }
}
