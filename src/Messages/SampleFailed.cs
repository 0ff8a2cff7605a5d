namespace ActorTraining.Messages;

/// <summary>
/// A work item that could not be prepared (unreadable audio). It still reaches the batcher so ordering moves on;
/// the file is skipped, counted and listed.
/// </summary>
public sealed record SampleFailed(WorkItem Item, string Reason) : IPipelineMessage;
