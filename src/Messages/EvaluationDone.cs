namespace ActorTraining.Messages;

/// <summary>Evaluator → supervisor: metrics of the checkpoint of (phase, epoch).</summary>
public sealed record EvaluationDone(int Phase, int Epoch, IReadOnlyDictionary<string, double> Metrics) : IControlMessage;
