using Akka.Actor;
using Akka.Dispatch;
using Akka.Routing;

namespace ActorTraining.Actors;

/// <summary>
/// The stages between the corpus reader and the batcher, each a pool of <see cref="PipelineSpec.Workers"/> actors on
/// the pipeline dispatcher: <see cref="ClipDecoder"/> → <see cref="SpectrogramWorker"/> → <see cref="Compressor"/>,
/// a feature-cache hit going from the decoders straight to the compressors. The batcher's in-flight limit bounds what
/// all of them hold together.
/// </summary>
public static class PipelineStages
{
    /// <summary>Starts the stages as children of <paramref name="context"/>; returns the decoders, where work items go.</summary>
    public static IActorRef Start(IActorRefFactory context, ActorSystem system, PipelineSpec spec, IActorRef batcher)
    {
        var dispatcher = system.Dispatchers.HasDispatcher(PipelineDispatcher.Id) ? PipelineDispatcher.Id : Dispatchers.DefaultDispatcherId;
        Props Pool(Props props) => props.WithDispatcher(dispatcher).WithRouter(new RoundRobinPool(Math.Max(1, spec.Workers)));
        var compressors = context.ActorOf(Pool(Compressor.Props(spec, batcher)), "compressors");
        var spectrograms = context.ActorOf(Pool(SpectrogramWorker.Props(spec, compressors, batcher)), "spectrograms");
        return context.ActorOf(Pool(ClipDecoder.Props(spec, spectrograms, compressors, batcher)), "decoders");
    }
}
