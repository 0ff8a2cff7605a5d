using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Features;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The pipeline's first stage after the reader: a clip whose fbank the feature cache holds goes straight to the
/// compressors; any other is decoded (only the seconds the input covers, 16 kHz mono) — a file, or a shard's sample read
/// from the node's shard cache with its labels — and goes to the spectrogram stage. A clip the reader gave a mixup
/// partner is mixed here as waveforms (λ from the item's seed), as the reference does, and never cached. An unreadable
/// file or sample becomes a <see cref="SampleFailed"/> straight to the batcher, so order moves on and the run goes on.
/// One of a pool on the pipeline dispatcher.
/// </summary>
public sealed class ClipDecoder : ReceiveActor
{
    readonly ShardClips? _shardClips;
    readonly ClipFeatures _features;
    readonly IActorRef _spectrograms, _compressors;
    readonly ILoggingAdapter _log = Context.GetLogger();

    public ClipDecoder(PipelineSpec spec, IActorRef spectrograms, IActorRef compressors, IActorRef batcher)
    {
        (_spectrograms, _compressors) = (spectrograms, compressors);
        _features = spec.Features();
        if (spec.Entries is ShardCorpus corpus && spec.ShardCache is { } shardCache)
            _shardClips = new ShardClips(corpus, ShardCache.For(shardCache), spec.Labels);
        Receive<WorkItem>(item => ClipGuard.Run(item, "decoding", batcher, _log, () =>
        {
            try
            {
                if (item.Sample is { } sample) FromShard(item, sample);
                else if (item.MixPath is not null && item.MixTarget is not null) Mixed(item);
                else Single(item, _features.EntryOf(item.AudioPath, item.StartSeconds), item.Target, () => _features.Decode(item.AudioPath, item.StartSeconds));
            }
            catch (ShardSourceException ex) when (ex is not SourceUnavailableException)
            {
                batcher.Tell(new SampleFailed(item, ex.Message, Shard: ex.Url));
            }
            catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException or DatasetException)
            {
                batcher.Tell(new SampleFailed(item, ex.Message));
            }
        }));
    }

    /// <summary>A clip alone: its cached fbank to the compressors, or its waveform to the spectrogram stage.</summary>
    void Single(WorkItem item, FeatureEntry? entry, float[] target, Func<float[]> decode)
    {
        if (_features.Cached(entry) is { } cached) _compressors.Tell(new ClipSpectrogram(item, cached, target));
        else _spectrograms.Tell(new DecodedClip(item, decode(), target, entry));
    }

    /// <summary>The clip mixed with its partner, and the mixed target; the clip alone if the partner is unreadable.</summary>
    void Mixed(WorkItem item)
    {
        var wave = _features.Decode(item.AudioPath);
        float[] partner;
        try { partner = _features.Decode(item.MixPath!); }
        catch (Exception ex) when (ex is AudioDecodeException or IOException or UnauthorizedAccessException)
        {
            _log.Warning("mixup partner {0} unreadable, clip used unmixed: {1}", item.MixPath, ex.Message);
            _spectrograms.Tell(new DecodedClip(item, wave, item.Target, null));
            return;
        }
        Mix(item, wave, item.Target, partner, item.MixTarget!);
    }

    /// <summary>A shard's sample (cached under the shard and its key), mixed with its partner as above.</summary>
    void FromShard(WorkItem item, ShardSampleRef sample)
    {
        var clips = _shardClips ?? throw new InvalidOperationException("a shard sample in a pipeline without a shard corpus");
        var read = clips.Read(sample);
        var target = clips.Target(read);
        if (item.MixSample is not { } mix)
        {
            var (name, stamp, shard) = clips.CacheIdentity(sample, read);
            Single(item, _features.EntryOf(name, stamp, shard), target, () => _features.Decode(clips.AudioFile(read)));
            return;
        }
        var wave = _features.Decode(clips.AudioFile(read));
        try
        {
            var partner = clips.Read(mix);
            Mix(item, wave, target, _features.Decode(clips.AudioFile(partner)), clips.Target(partner));
        }
        catch (Exception ex) when (ex is AudioDecodeException or IOException or DatasetException or ShardSourceException and not SourceUnavailableException)
        {
            _log.Warning("mixup partner {0} unreadable, clip used unmixed: {1}", item.MixPath, ex.Message);
            _spectrograms.Tell(new DecodedClip(item, wave, target, null));
        }
    }

    void Mix(WorkItem item, float[] wave, float[] target, float[] partner, float[] partnerTarget)
    {
        var (mixed, lambda) = AstPreprocessing.Mixup(wave, partner, new Random(item.SampleSeed));
        var result = new float[target.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = (float)(lambda * target[i] + (1 - lambda) * partnerTarget[i]);
        _spectrograms.Tell(new DecodedClip(item, mixed, result, null));
    }

    protected override void PostStop() => _shardClips?.Dispose();

    public static Props Props(PipelineSpec spec, IActorRef spectrograms, IActorRef compressors, IActorRef batcher) =>
        Akka.Actor.Props.Create(() => new ClipDecoder(spec, spectrograms, compressors, batcher));
}
