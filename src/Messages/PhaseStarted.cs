namespace ActorTraining.Messages;

/// <summary>Phase <paramref name="Index"/> began: compression method, factor C and the model's input length.</summary>
public sealed record PhaseStarted(int Index, string Method, int Factor, string Pooling, int InputFrames) : ISupervisorEvent;
