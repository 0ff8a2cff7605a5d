using Akka.Actor;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The epoch-end evaluations under way for a supervisor: each pending one is dealt over all ranks (each scores every
/// n-th batch) and put back together by an <see cref="EvaluationCollector"/>, the supervisor's child. An evaluation whose
/// shard holder is gone is dealt again.
/// </summary>
public sealed class EvaluationDealer(RunSettings settings)
{
    sealed record Evaluation(IActorRef Collector, IReadOnlyList<IActorRef> Shards);

    readonly Dictionary<(int Phase, int Epoch), Evaluation> _underWay = new();
    int _round;

    public bool Any => _underWay.Count > 0;

    public bool IsCollector(IActorRef sender) => _underWay.Values.Any(e => e.Collector.Equals(sender));

    public void Deal(RunState state, IReadOnlyList<IActorRef> ranks, IActorContext context)
    {
        if (ranks.Count == 0) return;
        var training = settings.Config.Training;
        foreach (var pending in state.PendingEvaluations())
        {
            var key = (pending.Phase.Index, pending.Epoch);
            if (_underWay.ContainsKey(key)) continue;
            var round = ++_round;
            long batches = (settings.EvalEntries.Count + training.BatchSize - 1) / training.BatchSize;
            var collector = context.ActorOf(EvaluationCollector.Props(pending, round, batches,
                EvaluationCollector.TargetsOf(settings.EvalEntries, settings.Labels), context.Self, pretext: training.Pretraining is not null),
                $"evaluation-p{key.Item1}-e{key.Item2}-{round}");
            _underWay[key] = new Evaluation(collector, ranks);
            for (int i = 0; i < ranks.Count; i++)
                ranks[i].Tell(new EvaluateShard(settings.RunIndex, round, pending, i, ranks.Count, collector));
        }
    }

    public void Done(EvaluationDone done) => _underWay.Remove((done.Phase, done.Epoch));

    /// <summary>Stops the evaluations a rank no longer <paramref name="present"/> held a shard of (the next <see cref="Deal"/> deals them again).</summary>
    public void DropLost(IReadOnlySet<IActorRef> present, IActorContext context)
    {
        foreach (var (key, evaluation) in _underWay.Where(e => e.Value.Shards.Any(s => !present.Contains(s))).ToList())
        {
            context.Stop(evaluation.Collector);
            _underWay.Remove(key);
        }
    }

    public void DropAll(IActorContext context)
    {
        foreach (var evaluation in _underWay.Values) context.Stop(evaluation.Collector);
        _underWay.Clear();
    }
}
