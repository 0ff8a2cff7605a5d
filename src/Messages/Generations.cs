namespace ActorTraining.Messages;

// A run's supervisor and its ranks: forming, adopting, pausing and aborting generations; progress, commits, stops and faults.

/// <summary>
/// Phase supervisor → rank: train <paramref name="Phase"/> of run <paramref name="RunIndex"/> as member
/// <paramref name="Index"/> of generation <paramref name="Generation"/>, whose ordered <paramref name="Members"/> form the
/// ring (member i sends to member i+1) and split each global batch in that order, from <paramref name="Start"/>.
/// Member 0 writes the checkpoints. Whatever the rank was doing before stops.
/// </summary>
public sealed record JoinGeneration(int RunIndex, int Generation, PhasePlan Phase, IReadOnlyList<RankAddress> Members, int Index,
    GenerationStart Start) : IControlMessage;

/// <summary>
/// What a generation's ranks start from — exactly one of: <paramref name="Live"/> (the state the member at
/// <paramref name="SourceIndex"/> holds in memory: members holding the same keep theirs, the others fetch it from that
/// member over the data plane), <paramref name="Resume"/> (a committed checkpoint of the phase),
/// <paramref name="TransferFrom"/> (the previous phase's final checkpoint, weights carried over), or none of them
/// (phase 0 from the run's seed).
/// </summary>
public sealed record GenerationStart(LiveState? Live, int SourceIndex, CheckpointCommitted? Resume, CheckpointRef? TransferFrom)
{
    public string Kind => Live is not null ? "live" : Resume is not null ? "checkpoint" : TransferFrom is not null ? "transfer" : "fresh";
}

/// <summary>
/// A phase supervisor that started again (its journal's database was away, or its node was lost) → the members of the
/// generation the journal names last, all found holding it: go on as you are, answer to me from now on, and send again
/// the checkpoint commits I have not acknowledged.
/// </summary>
public sealed record AdoptGeneration(int RunIndex, int Generation) : IControlMessage;

/// <summary>
/// Phase supervisor → the ranks of a generation: stop after a step, all after the same one (the request rides in the
/// step's all-reduce), and report the state held (a rank is joining, or the coordinator changed).
/// </summary>
public sealed record PauseGeneration(int RunIndex, int Generation) : IControlMessage;

/// <summary>
/// Phase supervisor → the ranks of a generation: a member is gone; close the ring now (a step waiting in the
/// all-reduce fails at once) and report the state held. <paramref name="KeepState"/> false: the state is not to be
/// trusted (a fault), drop it.
/// </summary>
public sealed record AbortGeneration(int RunIndex, int Generation, bool KeepState) : IControlMessage;

/// <summary>
/// A node's ranks (local) ← the node: the cluster downed or removed the node <paramref name="Node"/> (host:port). A rank
/// whose generation has a member there leaves it at once, as on <see cref="AbortGeneration"/>, without waiting for a
/// coordinator that may have been on that node, or for the silence of a cut link to time out.
/// </summary>
public sealed record NodeLeftCluster(string Node);

/// <summary>
/// Phase supervisor → the ranks of generation <paramref name="Generation"/>: phase <paramref name="Phase"/> now has
/// <paramref name="Epochs"/> epochs (the adaptive scheduler gave it one more). A rank that already stopped at the old
/// end is formed into a new generation instead.
/// </summary>
public sealed record ExtendPhase(int RunIndex, int Generation, int Phase, int Epochs) : IControlMessage;

/// <summary>Rank → phase supervisor: member <paramref name="Index"/> joined generation <paramref name="Generation"/>'s ring, its state in
/// place. <paramref name="Pretrained"/>: a fresh first phase's model.init and what of it was not taken over (null otherwise);
/// the supervisor passes member 0's on to the run's display.</summary>
public sealed record GenerationReady(int RunIndex, int Generation, int Index, string StartedFrom, string? Pretrained = null) : IControlMessage;

/// <summary>Rank → phase supervisor: member <paramref name="Index"/> of generation <paramref name="Generation"/> stopped, holding <paramref name="State"/>.</summary>
public sealed record RankStopped(int RunIndex, int Generation, int Index, RankStopReason Reason, LiveState? State, string Detail) : IControlMessage;

/// <summary>Why a rank stopped training a generation.</summary>
public enum RankStopReason
{
    /// <summary>The phase's last epoch is trained.</summary>
    PhaseTrained,
    /// <summary>A pause was requested; all members stopped after the same step.</summary>
    Paused,
    /// <summary>The ring broke (a member is gone or was aborted); the step in flight was not taken, or taken by all who report it.</summary>
    RingBroken,
}

/// <summary>
/// The training state a rank holds in memory: of run <paramref name="RunIndex"/>, phase <paramref name="Phase"/>, made
/// in generation <paramref name="Generation"/>, after <paramref name="Step"/> optimiser steps, at
/// <paramref name="Position"/> of <paramref name="Epoch"/>; <paramref name="ParameterHash"/> identifies the weights (all
/// replicas of a step have the same). <paramref name="Running"/>: the rank is still training it (not yet stopped).
/// What the phase supervisor needs to continue from survivors instead of a checkpoint file.
/// </summary>
public sealed record LiveState(int RunIndex, int Phase, int Generation, int Epoch, long Position, long Step,
    string ParameterHash, EpochTotals Totals, double Lr, bool Running);

/// <summary>Trainer → supervisor (progress display, TensorBoard), after each step. <c>Step</c> counts the phase's steps;
/// <c>Lr</c> is the learning rate the step used, <c>GradNorm</c> the global gradient norm before any clipping.</summary>
public sealed record TrainingProgress(int Phase, int PhaseCount, int Epoch, int Epochs, long Step, long Position,
    long EpochSize, double Loss, double BatchesPerSecond, double Lr = double.NaN, double GradNorm = double.NaN) : IControlMessage;

/// <summary>
/// Member 0 of generation <paramref name="Generation"/> → supervisor: this checkpoint was written atomically; persist
/// it to make it trusted. A commit of a generation that was replaced is ignored.
/// </summary>
public sealed record CommitCheckpoint(CheckpointCommitted Checkpoint, int Generation) : IControlMessage;

/// <summary>Phase supervisor → member 0: the commit of <paramref name="Path"/> is in the journal (or was already): no need to send it again.</summary>
public sealed record CommitAcknowledged(int RunIndex, int Generation, string Path) : IControlMessage;

/// <summary>
/// Rank → phase supervisor, at each checkpoint of a generation of several: member <paramref name="Index"/>'s parameter
/// hash after <paramref name="Step"/>. Every replica must have the same; one that differs is a fault (a ring that does
/// not keep them bit-identical is a bug), never a silently diverging model.
/// </summary>
public sealed record ReplicaHash(int RunIndex, int Generation, int Index, long Step, bool EpochEnd, string Hash) : IControlMessage;

/// <summary>
/// Something in a run's training went wrong that a restart from the last committed checkpoint may cure: an unexpected
/// exception in <paramref name="Component"/> (trainer, evaluator, a pipeline stage) or a stall the watchdog saw.
/// <paramref name="Cause"/> is one line for the journal, status and the summary. <paramref name="Generation"/>: of which
/// generation of ranks (−1: not of one, e.g. the watchdog); a fault of a generation already replaced is ignored.
/// <paramref name="NonFinite"/>: set when the fault is a step whose loss or gradient norm was not finite.
/// </summary>
public sealed record TrainingFaulted(string Component, string Cause, int Generation = -1, NonFiniteStep? NonFinite = null) : IControlMessage;

/// <summary>
/// Where a training step went non-finite: phase and epoch (0-based), the phase's step it would have been (1-based, as
/// the progress line counts), what was NaN or infinite ("loss" or "gradient norm") and its value. Its update was not
/// applied. The same step of the same phase failing again after a restart is a deterministic divergence.
/// </summary>
public sealed record NonFiniteStep(int Phase, int Epoch, long Step, string Quantity, double Value)
{
    public bool SameStepAs(NonFiniteStep other) => Phase == other.Phase && Step == other.Step;
}

/// <summary>
/// What the run trains next (<c>RunState.TrainOrder</c>): <paramref name="Phase"/>. Exactly one start: <paramref name="Resume"/> (a committed
/// checkpoint of this phase: continue at its epoch and data position with its optimiser and LR state),
/// <paramref name="TransferFrom"/> (the previous phase's final checkpoint: carry the weights over, fresh optimiser and
/// schedule), or neither (phase 0 from a seeded initialisation). <paramref name="Generation"/> counts the run's
/// restarts: checkpoint files of generation g &gt; 0 carry it in their names, so a trainer of an older generation that
/// is still winding down can never write over a file of the current one.
/// </summary>
public sealed record TrainPhase(PhasePlan Phase, CheckpointCommitted? Resume, CheckpointRef? TransferFrom, int Generation = 0);
