namespace ActorTraining.Messages;

/// <summary>Supervisor → evaluator: evaluate the committed checkpoint of (phase, epoch) on the evaluation set.</summary>
public sealed record EvaluateCheckpoint(CheckpointRef Checkpoint, PhasePlan Phase, int Epoch) : IControlMessage;
