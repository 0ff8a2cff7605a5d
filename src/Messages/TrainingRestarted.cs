namespace ActorTraining.Messages;

/// <summary>
/// The supervisor restarted the run's training after a fault: <paramref name="Attempt"/> is the restart's number since
/// the last evaluated epoch (the budget counts these), <paramref name="Generation"/> the trainer generation it starts
/// (1 for the first restart of the run, counted over the whole run). <paramref name="NonFinite"/>: the step that went
/// non-finite, when that was the fault.
/// </summary>
public sealed record TrainingRestarted(int Attempt, int Generation, string Component, string Cause, NonFiniteStep? NonFinite = null) : ISupervisorEvent;
