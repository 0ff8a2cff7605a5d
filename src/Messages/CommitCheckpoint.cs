namespace ActorTraining.Messages;

/// <summary>Trainer → supervisor: this checkpoint was written atomically; persist it to make it trusted.</summary>
public sealed record CommitCheckpoint(CheckpointCommitted Checkpoint) : IControlMessage;
