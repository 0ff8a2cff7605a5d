namespace ActorTraining.Messages;

/// <summary>Rank → phase supervisor: member <paramref name="Index"/> joined generation <paramref name="Generation"/>'s ring, its state in
/// place. <paramref name="Pretrained"/>: a fresh first phase's model.init and what of it was not taken over (null otherwise);
/// the supervisor passes member 0's on to the run's display.</summary>
public sealed record GenerationReady(int RunIndex, int Generation, int Index, string StartedFrom, string? Pretrained = null) : IControlMessage;
