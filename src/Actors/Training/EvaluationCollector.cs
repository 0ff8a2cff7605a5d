using Akka.Actor;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Puts one evaluation back together from its shards (<see cref="ScoredRows"/> from the evaluators of one dispatch,
/// in any order) and answers <paramref name="replyTo"/> once every batch of the set is in: the metrics
/// (<see cref="EvaluationDone"/>) or, for `predict`, the scores in list order (<see cref="ClipScores"/>). The result is
/// the same however many shards there were (<see cref="EvaluationGather"/>). Each batch that comes in is an
/// <see cref="EvaluationProgress"/> to <paramref name="replyTo"/> (the supervisor's watchdog). A shard that could not be
/// scored is a fault (or, when a person must act, a failed run) and ends the collection.
/// </summary>
public sealed class EvaluationCollector : ReceiveActor
{
    sealed record EmptySet;

    public EvaluationCollector(EvaluateCheckpoint what, int round, long batches, Func<long, float[]> targetOf, IActorRef replyTo,
        bool prediction, bool reportsProgress, bool pretext)
    {
        var gather = new EvaluationGather(batches, targetOf);
        var skipped = new List<string>();
        int arrived = 0;
        Receive<ScoredRows>(r => r.Round == round, r =>
        {
            if (!gather.Add(r.Batch, r.Part, r.Parts, r.Positions, r.Scores, r.LossSum)) return;
            skipped.AddRange(r.Skipped);
            if (reportsProgress && r.Part == 0) replyTo.Tell(new EvaluationProgress(what.Phase.Index, what.Epoch, ++arrived));
            if (gather.Complete) Answer();
        });
        Receive<EvaluationAborted>(a => a.Round == round, a =>
        {
            replyTo.Tell(a.Permanent ? new RunFailed(a.Cause) : new TrainingFaulted("evaluator", a.Cause));
            Context.Stop(Self);
        });
        Receive<EmptySet>(_ => Answer());
        if (gather.Complete) Self.Tell(new EmptySet()); // no batch at all: nothing will come

        void Answer()
        {
            if (gather.Rows == 0)
                replyTo.Tell(new RunFailed($"evaluation of phase {what.Phase.Index + 1} epoch {what.Epoch + 1}: no readable audio — all {skipped.Count} clips of the evaluation set were skipped"));
            else if (prediction)
            {
                var rows = gather.ScoreRows();
                replyTo.Tell(new ClipScores(rows.Select(r => r.Scores).ToList(), skipped, rows.Select(r => r.Position).ToList()));
            }
            else if (pretext)
                replyTo.Tell(new EvaluationDone(what.Phase.Index, what.Epoch, gather.PretextMetrics()));
            else
            {
                var result = gather.Result();
                replyTo.Tell(new EvaluationDone(what.Phase.Index, what.Epoch, new Dictionary<string, double>
                {
                    ["accuracy"] = result.Stats.Accuracy,
                    ["map"] = result.Stats.MeanAveragePrecision,
                    ["mauc"] = result.Stats.MeanAuc,
                    ["dprime"] = result.Stats.DPrime,
                    ["eval_loss"] = result.Loss,
                }));
            }
            Context.Stop(Self);
        }
    }

    /// <summary>The multi-hot target of each evaluation clip, by its position in the (unshuffled) evaluation list.</summary>
    public static Func<long, float[]> TargetsOf(IReadOnlyList<Compute.Data.DatasetEntry> entries, Compute.Data.LabelSet labels) => position =>
    {
        var target = new float[labels.Count];
        foreach (var label in entries[(int)position].Labels) target[labels.IndexOf(label)] = 1f;
        return target;
    };

    /// <param name="pretext">The checkpoint is an SSAST pretraining model's: the rows are its pretext scores, the answer their means.</param>
    public static Props Props(EvaluateCheckpoint what, int round, long batches, Func<long, float[]> targetOf, IActorRef replyTo,
        bool prediction = false, bool reportsProgress = true, bool pretext = false) =>
        Akka.Actor.Props.Create(() => new EvaluationCollector(what, round, batches, targetOf, replyTo, prediction, reportsProgress, pretext));
}
