namespace ActorTraining.Actors;

/// <summary>
/// The thread pool of the CPU-bound pipeline workers (decoding, fbank, pooling), so they do not starve the actor
/// system's own dispatcher; its settings are the host's (actortraining.hocon). Without it the workers use the default.
/// </summary>
public static class PipelineDispatcher
{
    public const string Id = "actortraining.pipeline-dispatcher";
}
