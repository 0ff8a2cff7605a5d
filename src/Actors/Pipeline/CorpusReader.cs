using Akka.Actor;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Turns the corpus into work items, one epoch at a time: the epoch's order is a function of (seed, epoch) computed per
/// position — <see cref="EpochOrder"/> for files, <see cref="ShardOrder"/> for shards (no memory per clip) — so a run
/// resumed at a data position continues the same order. Only the positions of the pipeline's share
/// (<see cref="PipelineSpec.Share"/>) become work items: a rank decodes only what it trains on. Releases items only on
/// demand (<see cref="RequestWork"/> from the batcher), so the corpus size never reaches memory further down. Picks
/// mixup partners from a per-sample seed: any clip of a file corpus, a clip of the same shuffle window of a shard
/// corpus (a shard the node holds). From shards it asks the node's cache to fetch the windows being read and the next.
/// </summary>
public sealed class CorpusReader : ReceiveActor
{
    readonly PipelineSpec _spec;
    readonly IActorRef _decoders;
    readonly ShardCorpus? _shards;
    readonly ShardCache? _cache;
    int _epoch = -1;
    EpochOrder _order = new(0, 0, 0, shuffle: false);
    ShardOrder? _shardOrder;
    EpochShare _share;
    long _next;
    bool _endSent;

    public CorpusReader(PipelineSpec spec, IActorRef decoders)
    {
        _spec = spec;
        _decoders = decoders;
        _shards = spec.Entries as ShardCorpus;
        _cache = _shards is not null && spec.ShardCache is { } settings ? ShardCache.For(settings) : null;
        // a cache too small for the windows read at once fails the pipeline with a sentence (a ConfigException: the run stops)
        if (_cache is not null && _shards!.Shards.Any(s => ShardUrls.IsRemote(s.Url)) && spec.Share.Kind == DataShareKind.Partitioned)
            _cache.CheckRoom((long)spec.Share.OwnedPartitions * _shards.WindowShards * _shards.LargestShardBytes,
                $"the {spec.Share.OwnedPartitions} partitions rank {spec.Share.Rank} of {spec.Share.World} reads, {_shards.WindowShards} shards each,");
        Receive<StartEpoch>(s =>
        {
            _epoch = s.Epoch;
            long count = spec.Entries.Count;
            if (_shards is not null) _shardOrder = _shards.Order(spec.Seed, s.Epoch, spec.Shuffle);
            else _order = new EpochOrder(spec.Entries.Count, spec.Seed, s.Epoch, spec.Shuffle, spec.Weights);
            _share = spec.Share.Of(Math.Min(s.FromPosition, count), count);
            _next = _share.NextFrom(_share.Origin);
            _endSent = false;
        });
        Receive<RequestWork>(r =>
        {
            for (int i = 0; i < r.Count && _next < _share.Total; i++, _next = _share.NextFrom(_next + 1))
                _decoders.Tell(_shardOrder is not null ? ShardItem(_shardOrder, _next) : Item(_next), Sender);
            if (_next >= _share.Total && !_endSent)
            {
                _endSent = true;
                Sender.Tell(new EpochEnd(_epoch, _share.Total));
            }
        });
    }

    WorkItem Item(long position)
    {
        var entry = _spec.Entries[_order[position]];
        var seed = SampleSeed.For(_spec.Seed, _epoch, position);
        string? mixPath = null;
        float[]? mixTarget = null;
        if (MixupRandom(position) is { } rng)
        {
            var partner = _spec.Entries[rng.Next(_spec.Entries.Count)];
            mixPath = partner.AudioPath;
            mixTarget = Target(partner.Labels, partner.AudioPath);
        }
        return new WorkItem(_epoch, position, entry.AudioPath, Target(entry.Labels, entry.AudioPath), mixPath, mixTarget, seed, entry.StartSeconds);
    }

    WorkItem ShardItem(ShardOrder order, long position)
    {
        var sample = order[position];
        if (_cache is not null)
        {
            foreach (var s in order.WindowShards(position)) _cache.Prefetch(_shards!.Shards[s]);
            foreach (var s in order.NextWindowShards(position)) _cache.Prefetch(_shards!.Shards[s]);
        }
        ShardSampleRef? partner = MixupRandom(position) is { } rng ? order.PartnerOf(position, rng) : null;
        return new WorkItem(_epoch, position, Name(sample), [], partner is { } p ? Name(p) : null, null,
            SampleSeed.For(_spec.Seed, _epoch, position), Sample: sample, MixSample: partner);
    }

    string Name(ShardSampleRef sample) => $"{_shards!.Shards[sample.Shard].Url}#{sample.Ordinal}";

    /// <summary>The random source of a sample's mixup partner when mixup picks one for it, else null.</summary>
    Random? MixupRandom(long position)
    {
        if (!_spec.Augment || _spec.MixupProbability <= 0) return null;
        var rng = new Random(SampleSeed.For(_spec.Seed, _epoch, position, stream: 1));
        return rng.NextDouble() < _spec.MixupProbability ? rng : null;
    }

    float[] Target(IReadOnlyList<string> labels, string path)
    {
        var target = new float[_spec.Labels.Count];
        foreach (var label in labels)
        {
            var index = _spec.Labels.IndexOf(label);
            if (index < 0) throw new InvalidOperationException($"{path}: label '{label}' is not in the label list");
            target[index] = 1f;
        }
        return target;
    }

    public static Props Props(PipelineSpec spec, IActorRef decoders) => Akka.Actor.Props.Create(() => new CorpusReader(spec, decoders));
}
