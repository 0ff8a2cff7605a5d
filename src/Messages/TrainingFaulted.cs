namespace ActorTraining.Messages;

/// <summary>
/// Something in a run's training went wrong that a restart from the last committed checkpoint may cure: an unexpected
/// exception in <paramref name="Component"/> (trainer, evaluator, a pipeline stage) or a stall the watchdog saw.
/// <paramref name="Cause"/> is one line for the journal, status and the summary. <paramref name="Generation"/>: of which
/// generation of ranks (−1: not of one, e.g. the watchdog); a fault of a generation already replaced is ignored.
/// <paramref name="NonFinite"/>: set when the fault is a step whose loss or gradient norm was not finite.
/// </summary>
public sealed record TrainingFaulted(string Component, string Cause, int Generation = -1, NonFiniteStep? NonFinite = null) : IControlMessage;
