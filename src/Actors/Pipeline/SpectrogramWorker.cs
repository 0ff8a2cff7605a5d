using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The spectrogram stage: a decoded clip's fbank at the phase's front end (Frame-Shift's hop of 10·C ms directly),
/// kept in the feature cache unless the clip was mixed, then on to the compressors. One of a pool on the pipeline
/// dispatcher (each holds its extractor's windows and mel banks).
/// </summary>
public sealed class SpectrogramWorker : ReceiveActor
{
    public SpectrogramWorker(PipelineSpec spec, IActorRef compressors, IActorRef batcher)
    {
        var log = Context.GetLogger();
        var features = spec.Features();
        Receive<DecodedClip>(clip => ClipGuard.Run(clip.Item, "computing the spectrogram", batcher, log, () =>
        {
            var fbank = features.Compute(clip.Waveform);
            features.Store(clip.CacheAs, fbank, notice => log.Warning(notice));
            compressors.Tell(new ClipSpectrogram(clip.Item, fbank, clip.Target));
        }));
    }

    public static Props Props(PipelineSpec spec, IActorRef compressors, IActorRef batcher) =>
        Akka.Actor.Props.Create(() => new SpectrogramWorker(spec, compressors, batcher));
}
