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

    public static ActorSystem Create(string runDirectory, string? postgres, bool verbose)
    {
        var config = ConfigurationFactory.ParseString($"akka.loglevel = {(verbose ? "INFO" : "WARNING")}\nakka.stdout-loglevel = WARNING")
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
