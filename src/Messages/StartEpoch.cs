namespace ActorTraining.Messages;

/// <summary>Begin epoch <paramref name="Epoch"/> at position <paramref name="FromPosition"/> of its shuffled order (0, or a resumed data position).</summary>
public sealed record StartEpoch(int Epoch, long FromPosition) : IPipelineMessage;
