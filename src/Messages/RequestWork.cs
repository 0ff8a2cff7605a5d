namespace ActorTraining.Messages;

/// <summary>Demand, batcher → corpus reader: release <paramref name="Count"/> more work items into the pipeline.</summary>
public sealed record RequestWork(int Count) : IPipelineMessage;
