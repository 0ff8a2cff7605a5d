namespace ActorTraining.Messages;

/// <summary>Evaluator → supervisor: another batch was scored (the watchdog's sign of life during an evaluation).</summary>
public sealed record EvaluationProgress(int Phase, int Epoch, int Batches) : IControlMessage;
