using Akka.Actor;
using ActorTraining.Compute.Distributed;
using ActorTraining.Messages;

using ActorTraining.Compute.Training;

namespace ActorTraining.Actors;

/// <summary>
/// Turns the corpus into work items, one epoch at a time: the epoch's order is a permutation seeded from
/// (seed, epoch), computed per position (<see cref="EpochOrder"/>: no memory per clip), so a run resumed at a data
/// position continues the same order. Only the positions of the pipeline's share (<see cref="PipelineSpec.Share"/>)
/// become work items: a rank decodes only what it trains on. Releases items only on demand
/// (<see cref="RequestWork"/> from the batcher), so the corpus size never reaches memory further down. Picks mixup
/// partners from a per-sample seed.
/// </summary>
public sealed class CorpusReader : ReceiveActor
{
    readonly PipelineSpec _spec;
    readonly IActorRef _decoders;
    int _epoch = -1;
    EpochOrder _order = new(0, 0, 0, shuffle: false);
    EpochShare _share;
    long _next;
    bool _endSent;

    public CorpusReader(PipelineSpec spec, IActorRef decoders)
    {
        _spec = spec;
        _decoders = decoders;
        Receive<StartEpoch>(s =>
        {
            _epoch = s.Epoch;
            _order = new EpochOrder(spec.Entries.Count, spec.Seed, s.Epoch, spec.Shuffle, spec.Weights);
            _share = spec.Share.Of(Math.Min(s.FromPosition, _order.Count), _order.Count);
            _next = _share.NextFrom(_share.Origin);
            _endSent = false;
        });
        Receive<RequestWork>(r =>
        {
            for (int i = 0; i < r.Count && _next < _order.Count; i++, _next = _share.NextFrom(_next + 1))
                _decoders.Tell(Item(_next), Sender);
            if (_next >= _order.Count && !_endSent)
            {
                _endSent = true;
                Sender.Tell(new EpochEnd(_epoch, _order.Count));
            }
        });
    }

    WorkItem Item(long position)
    {
        var entry = _spec.Entries[_order[position]];
        var seed = SampleSeed.For(_spec.Seed, _epoch, position);
        string? mixPath = null;
        float[]? mixTarget = null;
        if (_spec.Augment && _spec.MixupProbability > 0)
        {
            var rng = new Random(SampleSeed.For(_spec.Seed, _epoch, position, stream: 1));
            if (rng.NextDouble() < _spec.MixupProbability)
            {
                var partner = _spec.Entries[rng.Next(_spec.Entries.Count)];
                mixPath = partner.AudioPath;
                mixTarget = Target(partner.Labels, partner.AudioPath);
            }
        }
        return new WorkItem(_epoch, position, entry.AudioPath, Target(entry.Labels, entry.AudioPath), mixPath, mixTarget, seed, entry.StartSeconds);
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
