namespace ActorTraining.Messages;

/// <summary>Corpus reader → batcher: epoch <paramref name="Epoch"/> has <paramref name="Positions"/> work items in all; none after.</summary>
public sealed record EpochEnd(int Epoch, long Positions) : IPipelineMessage;
