namespace ActorTraining.Messages;

/// <summary>
/// Something in a run's training went wrong that a restart from the last committed checkpoint may cure: an unexpected
/// exception in <paramref name="Component"/> (trainer, evaluator, a pipeline stage) or a stall the watchdog saw.
/// <paramref name="Cause"/> is one line for the journal, status and the summary.
/// </summary>
public sealed record TrainingFaulted(string Component, string Cause) : IControlMessage;
