using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Reporting;

/// <summary>
/// One line of metrics.jsonl / metrics.csv: the state of a run after one epoch.
/// <c>Run</c>: label of the curriculum (e.g. "pool-max 4→2→1", "baseline"). <c>PhaseIndex</c> 0-based;
/// <c>Epoch</c> 1-based within the phase, <c>RunEpoch</c> 1-based over the whole run; <c>Step</c> optimiser steps
/// so far in the run. <c>Metric</c> is the value of <c>MetricName</c> (map | accuracy) — the one plotted and
/// compared. FLOPs, wall seconds and trainer idle seconds are cumulative over the run (training FLOPs:
/// forward + backward of every training sample, and the probes; evaluation not counted). <c>TokensPerClip</c>: patches the
/// model sees per clip in this phase. <c>Scheduler</c>: what the adaptive phase scheduler decided from this epoch's
/// score ("go on: …" or "end: …" with its reason); null for fixed phase lengths and epochs that decided nothing.
/// <c>AveragedFrom</c>/<c>AveragedTo</c> (1-based epochs of the phase): the line is not an epoch but the weight average
/// of those epochs (<c>training.weight-averaging</c>), the run's last line; its position, FLOPs and times are the last
/// epoch's (averaging trains nothing). Absent from every other line. <c>Mse</c>: SSAST pretraining's reconstruction error
/// on the evaluation set (its <c>Metric</c> is the pretext accuracy, its <c>EvalLoss</c> nce + 10 · mse); absent otherwise.
/// <c>GradNormMax</c>: the largest global gradient norm (before any clipping) of the epoch's steps. <c>ProbeFlops</c>: of
/// the cumulative FLOPs, those of the adaptive scheduler's probes of the next resolution (a probe counts at the epoch it
/// started from, its FLOPs and its whole wall time, although it ran beside training); absent without probes.
/// </summary>
public sealed record EpochRecord(
    string Run,
    int PhaseIndex,
    string Method,
    int Factor,
    string Pooling,
    int TokensPerClip,
    int Epoch,
    int RunEpoch,
    long Step,
    double Lr,
    double TrainLoss,
    double EvalLoss,
    string MetricName,
    double Metric,
    double MeanAveragePrecision,
    double MeanAuc,
    double DPrime,
    double Accuracy,
    double CumulativeFlops,
    double WallSeconds,
    double TrainerIdleSeconds,
    string? Scheduler = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? AveragedFrom = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? AveragedTo = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Mse = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? GradNormMax = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ProbeFlops = null)
{
    [JsonIgnore] public bool IsWeightAverage => AveragedFrom is not null;

    /// <summary>"weight average of epochs 6–25" for an averaged line.</summary>
    [JsonIgnore]
    public string WeightAverageName => AveragedFrom == AveragedTo ? $"weight average of epoch {AveragedFrom}" : $"weight average of epochs {AveragedFrom}–{AveragedTo}";
}
