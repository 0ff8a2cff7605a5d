namespace ActorTraining.Messages;

/// <summary>Batcher → consumer: every batch of epoch <paramref name="Epoch"/> was sent (the last one may be short).</summary>
public sealed record EpochDrained(int Epoch, long Positions, IReadOnlyList<string> Skipped) : IPipelineMessage;
