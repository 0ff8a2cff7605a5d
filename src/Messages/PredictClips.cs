namespace ActorTraining.Messages;

/// <summary>Host → evaluator: score every clip of its evaluation list with the checkpoint (no metrics; for `predict`).</summary>
public sealed record PredictClips(CheckpointRef Checkpoint, PhasePlan Phase) : IControlMessage;
