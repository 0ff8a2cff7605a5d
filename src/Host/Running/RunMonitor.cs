using ActorTraining.Compute.Reporting;
using ActorTraining.Compute.Model;
using Akka.Actor;
using ActorTraining.Actors;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>
/// This node's listener: shows what the run's coordinator tells every node — progress, phases, evaluated epochs,
/// generations of ranks, restarts — collects the clips this node's pipelines skipped (unreadable) or zero-padded (too
/// short), and completes <paramref name="outcome"/> with <see cref="ExperimentEnded"/>, or <see cref="RanksRefused"/>
/// when this node may not take part.
/// </summary>
public sealed class RunMonitor : ReceiveActor
{
    public RunMonitor(ExperimentConfig config, TaskCompletionSource<IControlMessage> outcome, ClipNotes clips)
    {
        var runs = config.Runs();
        var displays = runs.Select((_, i) => new ProgressDisplay(config.RunLabel(i), config.Training.BatchSize)).ToArray();
        var metric = config.Training.ResolvedMetric;
        int shown = -1;
        Context.System.EventStream.Subscribe(Self, typeof(SampleFailed));
        Context.System.EventStream.Subscribe(Self, typeof(ClipPadded));
        Receive<RunEvent>(e =>
        {
            var display = displays[e.RunIndex];
            if (e.RunIndex != shown)
            {
                shown = e.RunIndex;
                display.Line($"run {e.RunIndex + 1}/{runs.Count} ({config.RunLabel(e.RunIndex)}): {string.Join(" → ", runs[e.RunIndex])}");
            }
            var plan = runs[e.RunIndex];
            switch (e.Event)
            {
                case TrainingProgress p:
                    display.Show(p);
                    break;
                case PhaseStarted p:
                    display.Line($"phase {p.Index + 1}/{plan.Count}: {p.Compression}, {p.InputFrames} input frames");
                    break;
                case GenerationFormed g:
                    display.Line($"  generation {g.Generation}: {g.Members.Count} rank(s) on {g.Members.Select(m => m.Node).Distinct().Count()} node(s) " +
                                 $"({string.Join(", ", g.Members)}), epoch {g.Epoch + 1} from position {g.Position}, step {g.Step}, {g.StartedFrom} start");
                    break;
                case GenerationReady { Pretrained: { } pretrained }:
                    display.Line($"  weights from {ModelInit.Key} = {pretrained}");
                    break;
                case PhaseLengthDecided d:
                    display.Line(d.EndsPhase
                        ? $"  scheduler: phase {d.Phase + 1} ends after {d.PhaseEpochs} epochs, phase {d.Phase + 2} gets up to {d.NextPhaseEpochs} — {d.Reason}"
                        : $"  scheduler: phase {d.Phase + 1} gets epoch {d.PhaseEpochs} — {d.Reason}");
                    break;
                case PhaseProbed pr:
                    display.Line($"  scheduler: probe from phase {pr.Phase + 1} epoch {pr.Epoch + 1} ({pr.Purpose.ToString().ToLowerInvariant()}): " +
                                 (pr.HereSteps > 0 ? $"phase {pr.Phase + 1} eval loss {pr.HereStartLoss:F4} → {pr.HereLoss:F4} in {pr.HereSteps} steps, " : "") +
                                 $"phase {pr.Phase + 2} {pr.ZeroShotLoss:F4} → {pr.Loss:F4} in {pr.Steps} steps; {pr.Flops / 1e12:F3} TFLOPs, {pr.WallSeconds:F1} s");
                    break;
                case EpochCompleted ep:
                    display.Line(
                        $"  phase {ep.Phase + 1} epoch {ep.Epoch + 1}{(config.Training.Adaptive is null ? $"/{plan[ep.Phase].Epochs}" : "")}: {metric} {Get(ep, metric):F4}, train loss {Get(ep, "train_loss"):F4}, " +
                        $"{ep.WallSeconds:F1} s, trainer idle {ep.IdleSeconds:F1} s ({100 * ep.IdleSeconds / Math.Max(1e-9, ep.WallSeconds):F0} %), " +
                        $"{ep.Flops / 1e12:F3} TFLOPs{(ep.SkippedFiles > 0 ? $", {ep.SkippedFiles} files skipped" : "")}");
                    break;
                case WeightsAveraged w:
                    display.Line($"  phase {w.Phase + 1}: weights of {w.Averaging} averaged into {w.Path}");
                    break;
                case AveragedWeightsEvaluated a:
                    display.Line($"  phase {a.Phase + 1} weight average of {a.Averaging}: {metric} {(a.Metrics.TryGetValue(metric, out var m) ? m : double.NaN):F4}" +
                                 $"{(a.Metrics.TryGetValue("eval_loss", out var l) ? $", eval loss {l:F4}" : "")} (the run's final checkpoint)");
                    break;
                case TrainingRestarted r:
                    display.Line($"warning: training restart {r.Attempt} in a row (generation {r.Generation}) after a fault in the {r.Component}: {r.Cause} — resuming from the last committed checkpoint");
                    break;
                case RunFailed f:
                    display.Line($"run {e.RunIndex + 1} failed: {f.Reason}");
                    break;
            }
        });
        Receive<SampleFailed>(f =>
        {
            // through the display, which ends an open progress line first (else the warning is appended to it on a terminal)
            // a whole shard's samples fail for one reason: said once, each sample still counted
            if (clips.Skipped.Add(f.Item.AudioPath) && (f.Shard is null || clips.SkippedShards.Add(f.Shard)))
                displays[Math.Max(0, shown)].Line(f.Shard is null ? $"warning: skipped {f.Item.AudioPath}: {f.Reason}" : $"warning: skipped the samples of {f.Reason}");
        });
        Receive<ClipPadded>(p => clips.Padded.Add(p.Item.AudioPath));
        Receive<ExperimentEnded>(e => outcome.TrySetResult(e));
        Receive<RanksRefused>(r => outcome.TrySetResult(r));
    }

    static double Get(EpochCompleted e, string key) => e.Metrics.TryGetValue(key, out var v) ? v : double.NaN;

    public static Props Props(ExperimentConfig config, TaskCompletionSource<IControlMessage> outcome, ClipNotes clips) =>
        Akka.Actor.Props.Create(() => new RunMonitor(config, outcome, clips));
}
