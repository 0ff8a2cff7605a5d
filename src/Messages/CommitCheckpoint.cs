namespace ActorTraining.Messages;

/// <summary>
/// Member 0 of generation <paramref name="Generation"/> → supervisor: this checkpoint was written atomically; persist
/// it to make it trusted. A commit of a generation that was replaced is ignored.
/// </summary>
public sealed record CommitCheckpoint(CheckpointCommitted Checkpoint, int Generation) : IControlMessage;
