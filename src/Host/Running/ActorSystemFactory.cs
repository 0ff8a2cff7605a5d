using Akka.Actor;
using Akka.Configuration;

namespace ActorTraining.Host.Running;

/// <summary>
/// What every actor system the CLI starts shares: cluster.hocon (copied beside the executable: the timings of a
/// cluster run, see <see cref="ClusterNode"/>) and the CLI's logging.
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
}
