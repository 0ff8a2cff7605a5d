namespace ActorTraining.Messages;

/// <summary>Phase <paramref name="Index"/> finished; its last committed checkpoint holds its final weights.</summary>
public sealed record PhaseCompleted(int Index) : ISupervisorEvent;
