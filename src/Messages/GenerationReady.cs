namespace ActorTraining.Messages;

/// <summary>Rank → phase supervisor: member <paramref name="Index"/> joined generation <paramref name="Generation"/>'s ring, its state in place.</summary>
public sealed record GenerationReady(int RunIndex, int Generation, int Index, string StartedFrom) : IControlMessage;
