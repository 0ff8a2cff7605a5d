namespace ActorTraining.Messages;

/// <summary>Evaluator → collector: the shard could not be scored (<paramref name="Cause"/>); the evaluation must start again.</summary>
public sealed record EvaluationAborted(int Round, int Shard, string Cause, bool Permanent) : IControlMessage;
