using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Decodes a work item's audio to 16 kHz mono (only as many seconds as the input length covers) and, when the reader
/// chose a mixup partner, mixes the two waveforms (λ from the item's own seed) and their targets. An unreadable file
/// becomes a <see cref="SampleFailed"/> straight to the batcher, so order moves on and the run goes on.
/// One of a pool; runs on the pipeline dispatcher.
/// </summary>
public sealed class DecoderWorker : ReceiveActor
{
    public DecoderWorker(PipelineSpec spec, IActorRef spectrograms, IActorRef batcher)
    {
        var log = Context.GetLogger();
        var options = new DecodeOptions(MaxSeconds: spec.MaxSeconds);
        Receive<WorkItem>(item => ClipGuard.Run(item, "decoding", batcher, log, () =>
        {
            float[] wave;
            try { wave = AudioDecoder.Decode(item.AudioPath, options); }
            catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException)
            {
                batcher.Tell(new SampleFailed(item, ex.Message));
                return;
            }
            var target = item.Target;
            if (item.MixPath is not null && item.MixTarget is not null)
            {
                try
                {
                    var partner = AudioDecoder.Decode(item.MixPath, options);
                    var (mixed, lambda) = AstPreprocessing.Mixup(wave, partner, new Random(item.SampleSeed));
                    wave = mixed;
                    target = new float[target.Length];
                    for (int i = 0; i < target.Length; i++)
                        target[i] = (float)(lambda * item.Target[i] + (1 - lambda) * item.MixTarget[i]);
                }
                catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException)
                {
                    log.Warning("mixup partner {0} unreadable, clip used unmixed: {1}", item.MixPath, ex.Message);
                }
            }
            spectrograms.Tell(new DecodedClip(item, wave, target));
        }));
    }

    public static Props Props(PipelineSpec spec, IActorRef spectrograms, IActorRef batcher) =>
        Akka.Actor.Props.Create(() => new DecoderWorker(spec, spectrograms, batcher));
}
