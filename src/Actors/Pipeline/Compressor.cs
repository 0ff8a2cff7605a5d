using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The compressor stage: a clip's fbank made a model input by <see cref="Compute.Features.SamplePreparation"/> — the
/// phase's temporal compression (pooling), pad or cut to its input length, SpecAugment seeded from the sample,
/// normalisation — then to the batcher. One of a pool on the pipeline dispatcher.
/// </summary>
public sealed class Compressor : ReceiveActor
{
    public Compressor(PipelineSpec spec, IActorRef batcher)
    {
        var log = Context.GetLogger();
        var features = spec.Features();
        var preparation = spec.Preparation;
        Receive<ClipSpectrogram>(clip => ClipGuard.Run(clip.Item, "compressing", batcher, log, () =>
        {
            var fbank = clip.Fbank;
            if (fbank.Frames == 0)
            {
                batcher.Tell(new SampleFailed(clip.Item, "no audio samples"));
                return;
            }
            if (features.IsPadded(fbank.Samples)) Context.System.EventStream.Publish(new ClipPadded(clip.Item, (int)fbank.Samples));
            var values = preparation.Prepare(fbank.Values, fbank.Frames, spec.MelBins, spec.Augment ? clip.Item.SampleSeed : null);
            batcher.Tell(new SamplePrepared(clip.Item, values, clip.Target));
        }));
    }

    public static Props Props(PipelineSpec spec, IActorRef batcher) => Akka.Actor.Props.Create(() => new Compressor(spec, batcher));
}
