using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// One clip from work item to model input, in one step: its fbank from the feature cache, or decoded (only the seconds
/// the input covers) and computed (Frame-Shift's hop of 10·C ms directly) and cached; then
/// <see cref="SamplePreparation"/> (pooling, pad/cut, SpecAugment seeded from the sample, normalisation). A clip the
/// reader gave a mixup partner is mixed as waveforms (λ from the item's seed) as the reference does, and so is
/// decoded, not read from the cache. An unreadable file becomes a <see cref="SampleFailed"/> straight to the batcher,
/// so order moves on and the run goes on. One of a pool on the pipeline dispatcher: no single actor between the
/// reader and the batcher.
/// </summary>
public sealed class ClipWorker : ReceiveActor
{
    public ClipWorker(PipelineSpec spec, IActorRef batcher)
    {
        var log = Context.GetLogger();
        var features = new ClipFeatures(new FbankOptions(FrameShiftMs: spec.Compression.FrameShiftMs(spec.BaseFrameShiftMs), MelBins: spec.MelBins),
            spec.MaxSeconds, spec.Cache is { } settings ? FeatureCache.For(settings) : null);
        var preparation = spec.Preparation;
        Receive<WorkItem>(item => ClipGuard.Run(item, "preparing", batcher, log, () =>
        {
            CachedFbank fbank;
            var target = item.Target;
            try
            {
                if (item.MixPath is not null && item.MixTarget is not null) (fbank, target) = Mixed(item, features, log);
                else fbank = features.Of(item.AudioPath, full => log.Warning(full), item.StartSeconds);
            }
            catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException)
            {
                batcher.Tell(new SampleFailed(item, ex.Message));
                return;
            }
            if (fbank.Frames == 0)
            {
                batcher.Tell(new SampleFailed(item, "no audio samples"));
                return;
            }
            if (features.IsPadded(fbank.Samples)) Context.System.EventStream.Publish(new ClipPadded(item, (int)fbank.Samples));
            var values = preparation.Prepare(fbank.Values, fbank.Frames, spec.MelBins, spec.Augment ? item.SampleSeed : null);
            batcher.Tell(new SamplePrepared(item, values, target));
        }));
    }

    /// <summary>The clip mixed with its partner (waveforms, then fbank), and the mixed target; the clip alone if the partner is unreadable.</summary>
    static (CachedFbank Fbank, float[] Target) Mixed(WorkItem item, ClipFeatures features, ILoggingAdapter log)
    {
        var wave = features.Decode(item.AudioPath);
        float[] partner;
        try { partner = features.Decode(item.MixPath!); }
        catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException)
        {
            log.Warning("mixup partner {0} unreadable, clip used unmixed: {1}", item.MixPath, ex.Message);
            return (features.Compute(wave), item.Target);
        }
        var (mixed, lambda) = AstPreprocessing.Mixup(wave, partner, new Random(item.SampleSeed));
        var target = new float[item.Target.Length];
        for (int i = 0; i < target.Length; i++)
            target[i] = (float)(lambda * item.Target[i] + (1 - lambda) * item.MixTarget![i]);
        return (features.Compute(mixed), target);
    }

    public static Props Props(PipelineSpec spec, IActorRef batcher) => Akka.Actor.Props.Create(() => new ClipWorker(spec, batcher));
}
