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
    readonly string _label = settings.Config.RunLabel(settings.RunIndex);
    Dictionary<(int Phase, int Epoch, bool Averaged), string?>? _logged; // each line's scheduler text

    /// <summary>Appends the epochs of <paramref name="state"/> the file does not have — and again an epoch whose scheduler
    /// decision came after its line (it waited for a probe; the last line wins); a file that cannot be written is a
    /// warning. Returns the epochs logged for the first time.</summary>
    public IReadOnlyList<EpochRecord> Write(RunState state, ILoggingAdapter log)
    {
        var appended = new List<EpochRecord>();
        try
        {
            _logged ??= (File.Exists(_log.JsonlPath) ? _log.Read() : []).Where(r => r.Run == _label)
                .ToDictionary(r => (r.PhaseIndex, r.Epoch, r.IsWeightAverage), r => r.Scheduler);
            foreach (var record in Records(state, settings.Config, settings.RunIndex, settings.Labels.Count))
            {
                var key = (record.PhaseIndex, record.Epoch, record.IsWeightAverage);
                bool logged = _logged.TryGetValue(key, out var scheduler);
                if (logged && scheduler == record.Scheduler) continue;
                _logged[key] = record.Scheduler;
                _log.Append(record);
                if (!logged) appended.Add(record);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            log.Warning("could not write {0}: {1}", _log.JsonlPath, e.Message);
        }
        return appended;
    }

    /// <summary>
    /// A run's journal state as metrics.jsonl records: the evaluated epochs in run order up to the first one not yet
    /// scored (a phase's last epoch is scored beside the next phase's training, and a record's FLOPs and times are
    /// cumulative, so none is written before those of every epoch ahead of it), then the scored weight average, if any,
    /// once every epoch is in.
    /// </summary>
    public static IReadOnlyList<EpochRecord> Records(RunState state, ExperimentConfig config, int runIndex, int classes)
    {
        var label = config.RunLabel(runIndex);
        var metric = config.Training.ResolvedMetric;
        var fine = RunSettings.FineModelOf(config, classes);
        var records = new List<EpochRecord>();
        double flops = 0, wall = 0, idle = 0, probeFlops = 0;
        long stepsBefore = 0;
        int runEpoch = 0, phaseOfSteps = 0;
        var scored = state.Epochs.ToDictionary(e => (e.Phase, e.Epoch));
        foreach (var e in InRunOrder(state, scored))
        {
            var phase = state.Phases[e.Phase];
            if (e.Phase != phaseOfSteps)
            {
                stepsBefore = state.StepsBefore(e.Phase);
                phaseOfSteps = e.Phase;
            }
            var end = state.Checkpoints.Last(c => c.Phase == e.Phase && c.Epoch == e.Epoch && c.EpochComplete);
            flops += e.Flops;
            wall += e.WallSeconds;
            idle += e.IdleSeconds;
            foreach (var probe in state.Probes.Where(x => x.Phase == e.Phase && x.Epoch == e.Epoch))
            {
                flops += probe.Flops;
                probeFlops += probe.Flops;
                wall += probe.WallSeconds;
            }
            double M(string key) => e.Metrics.TryGetValue(key, out var v) ? v : double.NaN;
            records.Add(new EpochRecord(label, e.Phase, phase.Compression.MethodWord, phase.Compression.Factor, phase.Compression.PoolingWord,
                phase.Compression.ModelConfig(fine).NumPatches,
                e.Epoch + 1, ++runEpoch, stepsBefore + end.Step, end.Lr, M("train_loss"), M("eval_loss"), metric, M(metric),
                M("map"), M("mauc"), M("dprime"), M("accuracy"), flops, wall, idle,
                state.Decisions.FirstOrDefault(d => d.Phase == e.Phase && d.Epoch == e.Epoch) is { } d
                    ? $"{(d.EndsPhase ? "end" : "go on")}: {d.Reason}" : null)
            {
                Mse = e.Metrics.TryGetValue("mse", out var mse) ? mse : null,
                GradNormMax = e.Metrics.TryGetValue("grad_norm_max", out var gradNorm) ? gradNorm : null,
                ProbeFlops = state.Probes.IsEmpty ? null : probeFlops,
            });
        }
        if (state.AverageScore is { } averaged && records.Count == state.Phases.Sum(p => p.Epochs))
        {
            var last = records[^1];
            double M(string key) => averaged.Metrics.TryGetValue(key, out var v) ? v : double.NaN;
            records.Add(last with
            {
                TrainLoss = double.NaN, EvalLoss = M("eval_loss"), Metric = M(metric), MeanAveragePrecision = M("map"), MeanAuc = M("mauc"),
                DPrime = M("dprime"), Accuracy = M("accuracy"), Scheduler = null, Mse = averaged.Metrics.TryGetValue("mse", out var mse) ? mse : null, GradNormMax = null,
                AveragedFrom = averaged.Averaging.FirstEpoch + 1, AveragedTo = averaged.Averaging.LastEpoch + 1,
            });
        }
        return records;
    }

    static IEnumerable<Messages.EpochCompleted> InRunOrder(RunState state,
        IReadOnlyDictionary<(int Phase, int Epoch), Messages.EpochCompleted> scored)
    {
        for (int p = 0; p <= state.CurrentPhase && p < state.Phases.Length; p++)
            for (int k = 0; k < state.Phases[p].Epochs; k++)
            {
                if (!scored.TryGetValue((p, k), out var e)) yield break;
                yield return e;
            }
    }
}
