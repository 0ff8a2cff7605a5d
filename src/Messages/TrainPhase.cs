namespace ActorTraining.Messages;

/// <summary>
/// What the run trains next (<c>RunState.TrainOrder</c>): <paramref name="Phase"/>. Exactly one start: <paramref name="Resume"/> (a committed
/// checkpoint of this phase: continue at its epoch and data position with its optimiser and LR state),
/// <paramref name="TransferFrom"/> (the previous phase's final checkpoint: carry the weights over, fresh optimiser and
/// schedule), or neither (phase 0 from a seeded initialisation). <paramref name="Generation"/> counts the run's
/// restarts: checkpoint files of generation g &gt; 0 carry it in their names, so a trainer of an older generation that
/// is still winding down can never write over a file of the current one.
/// </summary>
public sealed record TrainPhase(PhasePlan Phase, CheckpointCommitted? Resume, CheckpointRef? TransferFrom, int Generation = 0);
