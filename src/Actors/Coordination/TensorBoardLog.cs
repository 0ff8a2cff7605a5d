using System.Globalization;
using ActorTraining.Compute.Reporting;
using ActorTraining.Messages;
using Akka.Event;

namespace ActorTraining.Actors;

/// <summary>
/// The run's TensorBoard view, written by its supervisor: <c>&lt;run-dir&gt;/tensorboard/r&lt;k&gt; &lt;label&gt;/</c>, one
/// folder per run of a comparison, so <c>tensorboard --logdir &lt;run-dir&gt;/tensorboard</c> overlays them. Per step:
/// <c>step/loss</c>, <c>step/lr</c>, <c>step/grad-norm</c>, <c>step/samples-per-second</c>; per evaluated epoch (the records of metrics.jsonl,
/// each once): every metric, the losses, cumulative FLOPs, trainer wall and idle seconds under <c>epoch/</c>; at a
/// phase's first record a text summary of the phase. The x axis is the optimiser step over the whole run. A writer
/// begins with a session start at the first step it sees, so steps a resumed run trains again replace the first ones.
/// A file that cannot be written is one warning, then TensorBoard output stops; training does not.
/// </summary>
public sealed class TensorBoardLog(RunSettings settings) : IDisposable
{
    readonly string _directory = Path.Combine(settings.RunDirectory, "tensorboard",
        $"r{settings.RunIndex} {settings.Config.RunLabel(settings.RunIndex)}".Replace('/', '-'));
    TensorBoardEvents? _events;
    bool _failed, _started;

    public void Step(TrainingProgress p, long stepsBefore, ILoggingAdapter log)
    {
        long step = stepsBefore + p.Step;
        Write(e =>
        {
            if (!_started) e.SessionStart(step);
            _started = true;
            e.Scalar("step/loss", step, p.Loss);
            e.Scalar("step/lr", step, p.Lr);
            if (double.IsFinite(p.GradNorm)) e.Scalar("step/grad-norm", step, p.GradNorm);
            e.Scalar("step/samples-per-second", step, p.BatchesPerSecond * settings.Config.Training.BatchSize);
        }, log);
    }

    public void Epochs(IReadOnlyList<EpochRecord> records, ILoggingAdapter log) => Write(e =>
    {
        foreach (var r in records.Where(r => r.IsWeightAverage))
        {
            // its own tags: on the epoch curves it would be a second point at the last epoch's step
            e.Text("weight-average", r.Step, $"**{r.Run}**: {r.WeightAverageName} of phase {r.PhaseIndex + 1}, the run's final checkpoint: {r.MetricName} {r.Metric:F4}");
            e.Scalar($"weight-average/{r.MetricName}", r.Step, r.Metric);
            if (double.IsFinite(r.EvalLoss)) e.Scalar("weight-average/eval-loss", r.Step, r.EvalLoss);
        }
        foreach (var r in records.Where(r => !r.IsWeightAverage))
        {
            if (r.Epoch == 1) e.Text("phase", r.Step, Describe(r));
            e.Scalar($"epoch/{r.MetricName}", r.Step, r.Metric);
            foreach (var (name, value) in new[] { ("map", r.MeanAveragePrecision), ("mauc", r.MeanAuc), ("dprime", r.DPrime), ("accuracy", r.Accuracy), ("mse", r.Mse ?? double.NaN) })
                if (name != r.MetricName && double.IsFinite(value)) e.Scalar($"epoch/{name}", r.Step, value);
            e.Scalar("epoch/train-loss", r.Step, r.TrainLoss);
            if (r.GradNormMax is { } gradNorm) e.Scalar("epoch/grad-norm-max", r.Step, gradNorm);
            if (double.IsFinite(r.EvalLoss)) e.Scalar("epoch/eval-loss", r.Step, r.EvalLoss);
            e.Scalar("epoch/flops", r.Step, r.CumulativeFlops);
            e.Scalar("epoch/wall-seconds", r.Step, r.WallSeconds);
            e.Scalar("epoch/trainer-idle-seconds", r.Step, r.TrainerIdleSeconds);
            e.Scalar("epoch/phase", r.Step, r.PhaseIndex);
            if (r.Scheduler is { } decision) e.Text("scheduler", r.Step, $"phase {r.PhaseIndex + 1}, epoch {r.Epoch}: {decision}");
        }
    }, log);

    static string Describe(EpochRecord r)
    {
        var c = Compute.Compression.Compression.Parse(r.Method, r.Factor, r.Pooling);
        var compression = c.IsFull ? "full resolution (C = 1)" : $"{c.Name.Replace('-', ' ')}, C = {r.Factor}";
        return string.Create(CultureInfo.InvariantCulture,
            $"**{r.Run}**, phase {r.PhaseIndex + 1}: {compression}, {r.TokensPerClip} patches per clip; from step {r.Step} (end of its first epoch), lr {r.Lr:G3}");
    }

    void Write(Action<TensorBoardEvents> write, ILoggingAdapter log)
    {
        if (_failed) return;
        try
        {
            _events ??= new TensorBoardEvents(_directory);
            write(_events);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failed = true;
            log.Warning("TensorBoard output stops: could not write {0}: {1}", _events?.Path ?? _directory, e.Message);
        }
    }

    public void Dispose() => _events?.Dispose();
}
