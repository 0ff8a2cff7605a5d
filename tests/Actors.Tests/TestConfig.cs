using Akka.Configuration;
using Akka.Persistence.Sql;

namespace ActorTraining.Actors.Tests;

/// <summary>Actor-system settings of the in-process tests (the CLI builds its systems with Akka.Hosting, see Host's AkkaSetup).</summary>
public static class TestConfig
{
    public static string Serializer => $$"""
        akka.actor {
          serializers.control-messages = "{{typeof(MessageSerializer).AssemblyQualifiedName!.Split(", Version")[0]}}"
          serialization-bindings {
            "{{typeof(Messages.IControlMessage).AssemblyQualifiedName!.Split(", Version")[0]}}" = control-messages
          }
        }
        """;

    /// <summary>The pipeline's dispatcher with <paramref name="threads"/> threads.</summary>
    public static Config PipelineDispatcher(int threads) => ConfigurationFactory.ParseString($$"""
        actortraining.pipeline-dispatcher {
          type = ForkJoinDispatcher
          throughput = 5
          dedicated-thread-pool.thread-count = {{threads}}
        }
        """);

    /// <summary>The run's SQLite journal and snapshot store in <paramref name="runDirectory"/>, with the serializer.</summary>
    public static Config ForRun(string runDirectory)
    {
        var stores = PersistenceConfig.StoresOf(runDirectory);
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql { connection-string = {{Quote(stores.Journal)}}, provider-name = "{{stores.Provider}}", parallelism = 1, auto-initialize = true }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql { connection-string = {{Quote(stores.Snapshots)}}, provider-name = "{{stores.Provider}}", auto-initialize = true }
              }
            }
            """).WithFallback(ConfigurationFactory.ParseString(Serializer)).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
