using Akka.Actor;
using ActorTraining.Actors;
using ActorTraining.Compute.Reporting;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>
/// The host's listener for one run: shows progress and epoch results, collects skipped (unreadable) and zero-padded (too short) clips, logs
/// every evaluated epoch to metrics.jsonl/csv (from the supervisor's state, so epochs a crash kept from the log are
/// written on resume), and completes the outcome with <see cref="RunCompleted"/> or <see cref="RunFailed"/>.
/// </summary>
public sealed class RunMonitor : ReceiveActor
{
    public RunMonitor(ProgressDisplay display, IReadOnlyList<PhasePlan> plan, TaskCompletionSource<IControlMessage> outcome,
        ClipNotes clips, string metric, string runLabel, Func<RunState, IReadOnlyList<EpochRecord>> records, RunLog log)
    {
        var logged = (File.Exists(log.JsonlPath) ? log.Read() : []).Where(r => r.Run == runLabel).Select(r => (r.PhaseIndex, r.Epoch)).ToHashSet();
        RunCompleted? completed = null;
        Receive<RunState>(state =>
        {
            try
            {
                foreach (var r in records(state))
                    if (logged.Add((r.PhaseIndex, r.Epoch))) log.Append(r);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                display.Line($"warning: could not write {log.JsonlPath}: {e.Message}");
            }
            if (completed is not null) outcome.TrySetResult(completed);
        });
        Context.System.EventStream.Subscribe(Self, typeof(SampleFailed));
        Context.System.EventStream.Subscribe(Self, typeof(ClipPadded));
        Receive<TrainingProgress>(display.Show);
        Receive<PhaseStarted>(p => display.Line(
            $"phase {p.Index + 1}/{plan.Count}: {p.Method}{(p.Method == "pool" ? "-" + p.Pooling : "")} C={p.Factor}, {p.InputFrames} input frames"));
        Receive<EpochCompleted>(e =>
        {
            display.Line(
                $"  phase {e.Phase + 1} epoch {e.Epoch + 1}/{plan[e.Phase].Epochs}: {metric} {Get(e, metric):F4}, train loss {Get(e, "train_loss"):F4}, " +
                $"{e.WallSeconds:F1} s, trainer idle {e.IdleSeconds:F1} s ({100 * e.IdleSeconds / Math.Max(1e-9, e.WallSeconds):F0} %), " +
                $"{e.Flops / 1e12:F3} TFLOPs{(e.SkippedFiles > 0 ? $", {e.SkippedFiles} files skipped" : "")}");
            Sender.Tell(GetRunState.Instance); // the state answers with every epoch, for the metrics log
        });
        Receive<CheckpointCommitted>(_ => { });
        Receive<RunStarted>(_ => { });
        Receive<PhaseCompleted>(_ => { });
        Receive<RestartBudgetReset>(_ => { });
        Receive<TrainingRestarted>(r => display.Line(
            $"warning: training restart {r.Attempt} in a row (generation {r.Generation}) after a fault in the {r.Component}: {r.Cause} — resuming from the last committed checkpoint"));
        Receive<SampleFailed>(f =>
        {
            if (clips.Skipped.Add(f.Item.AudioPath)) display.Line($"warning: skipped unreadable audio {f.Item.AudioPath}: {f.Reason}");
        });
        Receive<ClipPadded>(p => clips.Padded.Add(p.Item.AudioPath));
        Receive<RunCompleted>(c =>
        {
            completed = c;
            Sender.Tell(GetRunState.Instance); // log what is not logged yet, then report the end
        });
        Receive<RunFailed>(f => outcome.TrySetResult(f));
    }

    static double Get(EpochCompleted e, string key) => e.Metrics.TryGetValue(key, out var v) ? v : double.NaN;

    public static Props Props(ProgressDisplay display, IReadOnlyList<PhasePlan> plan, TaskCompletionSource<IControlMessage> outcome,
        ClipNotes clips, string metric, string runLabel, Func<RunState, IReadOnlyList<EpochRecord>> records, RunLog log) =>
        Akka.Actor.Props.Create(() => new RunMonitor(display, plan, outcome, clips, metric, runLabel, records, log));
}
