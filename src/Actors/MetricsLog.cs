using Akka.Event;
using ActorTraining.Compute.Reporting;
using ActorTraining.Compute.Training;

namespace ActorTraining.Actors;

/// <summary>
/// The run directory's metrics.jsonl/csv as the journal has it: one <see cref="EpochRecord"/> per evaluated epoch
/// (cumulative FLOPs, wall and idle time over the run), appended by the phase supervisor — the one writer, wherever in
/// the cluster it runs — for every evaluated epoch not in the file yet (a crash between the journal and the file is
/// made good when the run resumes).
/// </summary>
public sealed class MetricsLog(RunSettings settings)
{
    readonly RunLog _log = new(settings.RunDirectory);
    readonly string _label = ExperimentConfig.Label(settings.Curriculum);
    HashSet<(int Phase, int Epoch)>? _logged;

    /// <summary>Appends the epochs of <paramref name="state"/> the file does not have; a file that cannot be written is a warning.</summary>
    public void Write(RunState state, ILoggingAdapter log)
    {
        try
        {
            _logged ??= (File.Exists(_log.JsonlPath) ? _log.Read() : []).Where(r => r.Run == _label).Select(r => (r.PhaseIndex, r.Epoch)).ToHashSet();
            foreach (var record in Records(state, settings.Config, settings.RunIndex, settings.Labels.Count))
                if (_logged.Add((record.PhaseIndex, record.Epoch))) _log.Append(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            log.Warning("could not write {0}: {1}", _log.JsonlPath, e.Message);
        }
    }

    /// <summary>A run's journal state as metrics.jsonl records.</summary>
    public static IReadOnlyList<EpochRecord> Records(RunState state, ExperimentConfig config, int runIndex, int classes)
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
                PhaseCompression.Of(phase).ModelConfig(fine).NumPatches,
                e.Epoch + 1, ++runEpoch, stepsBefore + end.Step, end.Lr, M("train_loss"), M("eval_loss"), metric, M(metric),
                M("map"), M("mauc"), M("dprime"), M("accuracy"), flops, wall, idle));
        }
        return records;
    }
}
