using System.Text.Json.Serialization;
using Compression = ActorTraining.Compute.Compression.Compression;

namespace ActorTraining.Messages;

// What a run's supervisor journals, and the values inside: the run's one source of truth, read again on every start.

/// <summary>An event the phase supervisor persists in its journal. Small by design: never weights, never data.</summary>
public interface ISupervisorEvent : IControlMessage;

/// <summary>
/// The run began with the configuration whose canonical hash is <paramref name="ConfigHash"/>, and this curriculum
/// (a handful of small records, so status can show the plan without the config file), its phases' lengths fixed
/// (<paramref name="Schedule"/> null, as every journal before the adaptive scheduler) or decided as it trains, and the
/// weight averaging that ends it (<paramref name="Averaging"/>; null, as every journal before it: none), and the model it
/// trains as people read it (<paramref name="Model"/>; null in journals written before it was recorded).
/// </summary>
public sealed record RunStarted(string ConfigHash, IReadOnlyList<PhasePlan> Phases, AdaptiveSchedule? Schedule = null,
    WeightAveraging? Averaging = null, string? Model = null) : ISupervisorEvent;

/// <summary>Phase <paramref name="Index"/> began: its compression and the model's input length.</summary>
public sealed record PhaseStarted(int Index, [property: JsonIgnore] Compression Compression, int InputFrames) : ISupervisorEvent
{
    // the journal spells the compression in words (method, factor, pooling), as it always did; journals before
    // MessageSerializer are read by Akka's Newtonsoft serializer
    [JsonConstructor, Newtonsoft.Json.JsonConstructor]
    PhaseStarted(int index, string method, int factor, string pooling, int inputFrames) : this(index, Compression.Parse(method, factor, pooling), inputFrames) { }

    [JsonInclude] string Method => Compression.MethodWord;
    public int Factor => Compression.Factor;
    [JsonInclude] string Pooling => Compression.PoolingWord;
}

/// <summary>Phase <paramref name="Index"/> finished; its last committed checkpoint holds its final weights.</summary>
public sealed record PhaseCompleted(int Index) : ISupervisorEvent;

/// <summary>
/// Journal: generation <paramref name="Generation"/> of the run's ranks was formed — its members in ring order, and
/// where it starts: phase, epoch, data position, step, and from what (<see cref="GenerationStart.Kind"/>: live, checkpoint,
/// transfer, fresh). Every training position of an epoch is trained by exactly one generation: the one whose start
/// precedes it and whose successor starts after it.
/// </summary>
public sealed record GenerationFormed(int Generation, IReadOnlyList<RankAddress> Members, int Phase, int Epoch, long Position,
    long Step, string StartedFrom) : ISupervisorEvent;

/// <summary>
/// A checkpoint file became trusted. <paramref name="DataPosition"/> is the number of work items of
/// <paramref name="Epoch"/> (in its shuffled order) already consumed; <paramref name="EpochComplete"/> marks the
/// checkpoint written after the epoch's last batch. <paramref name="EpochWallSeconds"/> and
/// <paramref name="EpochIdleSeconds"/>, loss sum, samples, training FLOPs and skipped files carry the epoch's totals so
/// far, so a resumed epoch reports whole ones. <paramref name="Lr"/> is the learning rate of the last step taken,
/// <paramref name="EpochGradNormMax"/> the largest gradient norm of the epoch so far (0 in journals written before it).
/// </summary>
public sealed record CheckpointCommitted(string Path, string Sha256, int Phase, int Epoch, long Step,
    long DataPosition, bool EpochComplete, double EpochWallSeconds, double EpochIdleSeconds, double EpochLossSum,
    long EpochSamples, double EpochFlops, int EpochSkipped, double Lr, double EpochGradNormMax = 0) : ISupervisorEvent;

/// <summary>A checkpoint file and the SHA-256 it must have; how weights travel between actors (and nodes).</summary>
public sealed record CheckpointRef(string Path, string Sha256) : IControlMessage;

/// <summary>
/// An epoch of a phase was trained and evaluated. <paramref name="Metrics"/> holds the evaluation metrics
/// (accuracy or mAP/mAUC/d′) and the mean training loss; FLOPs are training FLOPs of this epoch; wall and idle
/// seconds are the trainer's (idle = time its thread waited for a batch).
/// </summary>
public sealed record EpochCompleted(int Phase, int Epoch, IReadOnlyDictionary<string, double> Metrics, double Flops,
    double WallSeconds, double IdleSeconds, long Samples, int SkippedFiles) : ISupervisorEvent;

/// <summary>
/// An epoch's running totals so far, the same on every rank (they are summed in the all-reduce): trainer wall and
/// idle seconds, summed loss, samples trained, training FLOPs, clips skipped as unreadable, the largest gradient norm.
/// </summary>
public sealed record EpochTotals(double WallSeconds, double IdleSeconds, double LossSum, long Samples, double Flops, int Skipped,
    double GradNormMax = 0)
{
    public static readonly EpochTotals Zero = new(0, 0, 0, 0, 0, 0);
}

/// <summary>
/// The supervisor restarted the run's training after a fault: <paramref name="Attempt"/> is the restart's number since
/// the last evaluated epoch (the budget counts these), <paramref name="Generation"/> the trainer generation it starts
/// (1 for the first restart of the run, counted over the whole run). <paramref name="NonFinite"/>: the step that went
/// non-finite, when that was the fault.
/// </summary>
public sealed record TrainingRestarted(int Attempt, int Generation, string Component, string Cause, NonFiniteStep? NonFinite = null) : ISupervisorEvent;

/// <summary>A fault came after <paramref name="Restarts"/> restarts in a row: the run stops with this cause (a new `train` resumes it).</summary>
public sealed record RestartBudgetSpent(string Component, string Cause, int Restarts) : ISupervisorEvent;

/// <summary>A new `train` process took over a run whose restart count was not zero: the budget starts over.</summary>
public sealed record RestartBudgetReset : ISupervisorEvent;

/// <summary>
/// The adaptive scheduler decided, from the scores of <paramref name="Phase"/>'s epochs up to <paramref name="Epoch"/>,
/// how long the phase trains: one epoch more (<paramref name="EndsPhase"/> false; it now has
/// <paramref name="PhaseEpochs"/>) or no more (it ends after <paramref name="PhaseEpochs"/> epochs and the next phase
/// may train up to <paramref name="NextPhaseEpochs"/>). <paramref name="Reason"/> says why, with the numbers.
/// </summary>
public sealed record PhaseLengthDecided(int Phase, int Epoch, bool EndsPhase, int PhaseEpochs, int NextPhaseEpochs, string Reason)
    : ISupervisorEvent;

/// <summary>
/// The weights of <paramref name="Phase"/>'s epoch ends <paramref name="Averaging"/> were averaged into the checkpoint
/// file <paramref name="Path"/> (SHA-256 <paramref name="Sha256"/>); its evaluation follows. As a command to the
/// supervisor (from its own averaging work) it is persisted as it is, once.
/// </summary>
public sealed record WeightsAveraged(int Phase, WeightAveraging Averaging, string Path, string Sha256) : ISupervisorEvent;

/// <summary>
/// The AST reference's weight averaging (its <c>--wa</c>, <c>--wa_start</c>, <c>--wa_end</c>): once the last phase is
/// trained, the weights of its epochs <paramref name="FirstEpoch"/>…<paramref name="LastEpoch"/> are averaged into one
/// checkpoint, which is evaluated and reported like an epoch and is the run's final checkpoint. An epoch ≥ 0 is 0-based
/// here (the configuration counts from 1, as the reference); a negative one counts from the phase's end (−1 its last
/// epoch), so one setting means "the last k epochs" for every run of a comparison and for a last phase whose length the
/// adaptive scheduler decides. Only the last phase: earlier phases have other input geometries (a pooled phase's
/// positional grid, a patch phase's kernel), so their weights are not points of the same space.
/// </summary>
public sealed record WeightAveraging(int FirstEpoch, int LastEpoch)
{
    /// <summary>The range in a phase of <paramref name="epochs"/> epochs, both ends 0-based; clamped into it (a valid
    /// configuration never needs that: it is checked against every run's last phase).</summary>
    public WeightAveraging In(int epochs)
    {
        int At(int e) => Math.Clamp(e < 0 ? epochs + e : e, 0, Math.Max(0, epochs - 1));
        return new WeightAveraging(At(FirstEpoch), Math.Max(At(FirstEpoch), At(LastEpoch)));
    }

    public int Count => LastEpoch - FirstEpoch + 1;

    /// <summary>A resolved range as people count epochs: "epochs 6–25".</summary>
    public override string ToString() => FirstEpoch == LastEpoch ? $"epoch {FirstEpoch + 1}" : $"epochs {FirstEpoch + 1}–{LastEpoch + 1}";
}

/// <summary>The averaged weights (<see cref="WeightsAveraged"/>) of <paramref name="Phase"/> were scored on the evaluation set.</summary>
public sealed record AveragedWeightsEvaluated(int Phase, WeightAveraging Averaging, IReadOnlyDictionary<string, double> Metrics) : ISupervisorEvent;

/// <summary>Every phase of the curriculum finished.</summary>
public sealed record RunCompleted(string FinalCheckpoint, string Sha256) : ISupervisorEvent;

/// <summary>
/// One phase of the curriculum as the supervisor and pipeline need it: compression, epochs, learning rate, warmup,
/// and the phase's input length in frames; once it has started, the training FLOPs of the phases before it
/// (<paramref name="FlopsBefore"/>, what a run-long learning-rate schedule needs).
/// </summary>
public sealed record PhasePlan(int Index, [property: JsonIgnore] Compression Compression, int Epochs, double Lr, int WarmupSteps, int InputFrames,
    double FlopsBefore = 0)
{
    // the journal and the wire spell the compression in words (method, factor, pooling), as they always did; journals
    // before MessageSerializer are read by Akka's Newtonsoft serializer
    [JsonConstructor, Newtonsoft.Json.JsonConstructor]
    PhasePlan(int index, string method, int factor, string pooling, int epochs, double lr, int warmupSteps, int inputFrames, double flopsBefore = 0)
        : this(index, Compression.Parse(method, factor, pooling), epochs, lr, warmupSteps, inputFrames, flopsBefore) { }

    [JsonInclude] string Method => Compression.MethodWord;
    public int Factor => Compression.Factor;
    [JsonInclude] string Pooling => Compression.PoolingWord;
}

/// <summary>
/// The adaptive phase scheduler's settings as the supervisor applies them (<c>training.phase-scheduler = adaptive</c>):
/// each phase but the last trains at least <paramref name="MinEpochs"/> and at most its curriculum epochs (its budget);
/// after each evaluated epoch the rule (<c>PhaseLengthRule</c>) decides whether the phase gets one more epoch, judging
/// <paramref name="Signal"/> (a metric key of <see cref="EpochCompleted"/>; <paramref name="HigherIsBetter"/> false for
/// a loss) with <paramref name="Patience"/>, <paramref name="Window"/> and <paramref name="ExpectedGain"/>. An epoch a
/// phase leaves unused goes to the next phase: as epochs (<paramref name="BudgetInFlops"/> false) or as the FLOPs it
/// would have cost, converted with the phases' training FLOPs per sample (<paramref name="SampleFlops"/>, one per phase).
/// With <paramref name="GateMetric"/>, no phase ends before it has started (<c>StartedGate</c>): that metric at least
/// <paramref name="StartedAt"/> (chance + 3 standard errors); a journal from before the gate has none.
/// With <paramref name="ProbeSteps"/> (one per phase: the burst that probes the next resolution from it) the rule is the
/// slope rule (<c>SlopeRule</c>) instead of the expected gain: once a phase has started, a probe trains the next
/// resolution and this one from the same checkpoint for the same FLOPs, and the phase ends when the next lowers the
/// evaluation loss more per FLOP; a phase that has not started by its budget's last epoch probes the next resolution
/// too, and moves on if that learns or stops the run if it does not.
/// </summary>
public sealed record AdaptiveSchedule(string Signal, bool HigherIsBetter, bool BudgetInFlops, int MinEpochs, int Patience,
    int Window, double ExpectedGain, IReadOnlyList<double> SampleFlops, string? GateMetric = null, double StartedAt = double.NaN,
    IReadOnlyList<int>? ProbeSteps = null);

/// <summary>Why the next resolution is probed: to measure its slope (the phase has started), or because the phase has
/// not started by its cap (is the resolution the problem, or the optimisation?).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProbePurpose>))]
public enum ProbePurpose { Slope, Stuck }

/// <summary>
/// A probe from the epoch-end checkpoint of <paramref name="Phase"/>'s epoch <paramref name="Epoch"/>: the next phase's
/// resolution, the weights carried over as the phase transfer does — the evaluation loss before
/// (<paramref name="ZeroShotLoss"/>) and after (<paramref name="Loss"/>) a burst of <paramref name="Steps"/> training
/// steps costing <paramref name="TrainFlops"/> — and, for a slope probe, the same phase continued from that checkpoint
/// (its optimiser and schedule) for as many FLOPs: <paramref name="HereStartLoss"/> → <paramref name="HereLoss"/> in
/// <paramref name="HereSteps"/> steps costing <paramref name="HereTrainFlops"/>. <paramref name="EvalFlops"/>: the
/// evaluation passes; <paramref name="WallSeconds"/>: the whole probe. The weights it trained are thrown away.
/// </summary>
public sealed record PhaseProbed(int Phase, int Epoch, ProbePurpose Purpose, int Steps, double ZeroShotLoss, double Loss,
    double TrainFlops, double EvalFlops, double WallSeconds, int HereSteps = 0, double HereStartLoss = double.NaN,
    double HereLoss = double.NaN, double HereTrainFlops = 0) : ISupervisorEvent
{
    public double Flops => TrainFlops + HereTrainFlops + EvalFlops;
}

/// <summary>Phase <paramref name="Phase"/> did not start by its cap and a probe of the next resolution did not learn
/// either: the run stops, <paramref name="Reason"/> saying so in numbers, instead of spending its budget.</summary>
public sealed record CurriculumStuck(int Phase, string Reason) : ISupervisorEvent;
