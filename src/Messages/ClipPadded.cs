namespace ActorTraining.Messages;

/// <summary>
/// A clip shorter than one analysis window, zero-padded to one window and used like any clip (published on the event
/// stream, so the run's summary can count such clips).
/// </summary>
public sealed record ClipPadded(WorkItem Item, int Samples) : IPipelineMessage;
