using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Features;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// One clip from work item to model input, in one step: its fbank from the feature cache, or decoded (only the seconds
/// the input covers) and computed (Frame-Shift's hop of 10·C ms directly) and cached; then
/// <see cref="SamplePreparation"/> (pooling, pad/cut, SpecAugment seeded from the sample, normalisation). A clip the
/// reader gave a mixup partner is mixed as waveforms (λ from the item's seed) as the reference does, and so is
/// decoded, not read from the cache. A shard's sample is read from the node's shard cache, its labels with it. An
/// unreadable file or sample becomes a <see cref="SampleFailed"/> straight to the batcher, so order moves on and the
/// run goes on. One of a pool on the pipeline dispatcher: no single actor between the reader and the batcher.
/// </summary>
public sealed class ClipWorker : ReceiveActor
{
    readonly ShardClips? _shardClips;

    public ClipWorker(PipelineSpec spec, IActorRef batcher)
    {
        var log = Context.GetLogger();
        var features = new ClipFeatures(new FbankOptions(FrameShiftMs: spec.Compression.FrameShiftMs(spec.BaseFrameShiftMs), MelBins: spec.MelBins),
            spec.MaxSeconds, spec.Cache is { } settings ? FeatureCache.For(settings) : null);
        if (spec.Entries is ShardCorpus corpus && spec.ShardCache is { } shardCache)
            _shardClips = new ShardClips(corpus, ShardCache.For(shardCache), spec.Labels);
        var preparation = spec.Preparation;
        Receive<WorkItem>(item => ClipGuard.Run(item, "preparing", batcher, log, () =>
        {
            CachedFbank fbank;
            var target = item.Target;
            try
            {
                if (item.Sample is { } sample) (fbank, target) = FromShard(item, sample, features, log);
                else if (item.MixPath is not null && item.MixTarget is not null) (fbank, target) = Mixed(item, features, log);
                else fbank = features.Of(item.AudioPath, full => log.Warning(full), item.StartSeconds);
            }
            catch (ShardSourceException ex) when (ex is not SourceUnavailableException)
            {
                batcher.Tell(new SampleFailed(item, ex.Message, Shard: ex.Url));
                return;
            }
            catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException or DatasetException)
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
        return Mix(item, wave, item.Target, partner, item.MixTarget!, features);
    }

    /// <summary>A shard's sample: its fbank (cached under the shard and key) and target; mixed with its partner as above.</summary>
    (CachedFbank Fbank, float[] Target) FromShard(WorkItem item, Compute.Data.Shards.ShardSampleRef sample, ClipFeatures features, ILoggingAdapter log)
    {
        var clips = _shardClips ?? throw new InvalidOperationException("a shard sample in a pipeline without a shard corpus");
        var read = clips.Read(sample);
        var target = clips.Target(read);
        if (item.MixSample is not { } mix)
        {
            var (name, stamp) = clips.CacheIdentity(sample, read);
            return (features.Of(name, stamp, () => features.Decode(clips.AudioFile(read)), full => log.Warning(full)), target);
        }
        var wave = features.Decode(clips.AudioFile(read));
        try
        {
            var partner = clips.Read(mix);
            return Mix(item, wave, target, features.Decode(clips.AudioFile(partner)), clips.Target(partner), features);
        }
        catch (Exception ex) when (ex is AudioDecodeException or IOException or DatasetException or ShardSourceException and not SourceUnavailableException)
        {
            log.Warning("mixup partner {0} unreadable, clip used unmixed: {1}", item.MixPath, ex.Message);
            return (features.Compute(wave), target);
        }
    }

    static (CachedFbank Fbank, float[] Target) Mix(WorkItem item, float[] wave, float[] target, float[] partner, float[] partnerTarget, ClipFeatures features)
    {
        var (mixed, lambda) = AstPreprocessing.Mixup(wave, partner, new Random(item.SampleSeed));
        var result = new float[target.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = (float)(lambda * target[i] + (1 - lambda) * partnerTarget[i]);
        return (features.Compute(mixed), result);
    }

    protected override void PostStop() => _shardClips?.Dispose();

    public static Props Props(PipelineSpec spec, IActorRef batcher) => Akka.Actor.Props.Create(() => new ClipWorker(spec, batcher));
}
