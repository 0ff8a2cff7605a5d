using ActorTraining.Actors;
using ActorTraining.Compute.Reporting;
using ActorTraining.Compute.Training;

namespace ActorTraining.Host.Running;

/// <summary>A run's journal state as metrics.jsonl records (cumulative FLOPs, wall and idle time over the run).</summary>
public static class EpochRecords
{
    public static IReadOnlyList<EpochRecord> From(RunState state, ExperimentConfig config, int runIndex, int classes)
    {
        var label = ExperimentConfig.Label(config.Runs()[runIndex]);
        var metric = config.Training.ResolvedMetric;
        var fine = RunSettings.FineModelOf(config, classes);
        var records = new List<EpochRecord>();
        double flops = 0, wall = 0, idle = 0;
        long stepsBefore = 0;
        int runEpoch = 0, phaseOfSteps = 0;
        foreach (var e in state.Epochs)
        {
            var phase = state.Phases[e.Phase];
            if (e.Phase != phaseOfSteps)
            {
                stepsBefore += state.LastCheckpoint(phaseOfSteps)?.Step ?? 0;
                phaseOfSteps = e.Phase;
            }
            var end = state.Checkpoints.Last(c => c.Phase == e.Phase && c.Epoch == e.Epoch && c.EpochComplete);
            flops += e.Flops;
            wall += e.WallSeconds;
            idle += e.IdleSeconds;
            double M(string key) => e.Metrics.TryGetValue(key, out var v) ? v : double.NaN;
            records.Add(new EpochRecord(label, e.Phase, phase.Method, phase.Factor, phase.Pooling,
                PhaseCompression.Of(phase.Method, phase.Factor, phase.Pooling).ModelConfig(fine).NumPatches,
                e.Epoch + 1, ++runEpoch, stepsBefore + end.Step, end.Lr, M("train_loss"), M("eval_loss"), metric, M(metric),
                M("map"), M("mauc"), M("dprime"), M("accuracy"), flops, wall, idle));
        }
        return records;
    }
}
