namespace ActorTraining.Messages;

/// <summary>Demand, consumer (trainer or evaluator) → batcher: send up to <paramref name="Count"/> more batches.</summary>
public sealed record RequestBatches(int Count) : IPipelineMessage;
