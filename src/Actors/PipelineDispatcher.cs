using Akka.Configuration;

namespace ActorTraining.Actors;

/// <summary>
/// A dedicated thread pool for the CPU-bound pipeline workers (decoding, fbank, pooling), so they do not starve the
/// actor system's own dispatcher; sized from the core count unless given.
/// </summary>
public static class PipelineDispatcher
{
    public const string Id = "actortraining.pipeline-dispatcher";

    public static Config Config(int? threads = null) => ConfigurationFactory.ParseString($$"""
        actortraining.pipeline-dispatcher {
          type = ForkJoinDispatcher
          throughput = 5
          dedicated-thread-pool {
            thread-count = {{threads ?? Math.Max(2, Environment.ProcessorCount)}}
          }
        }
        """);
}
