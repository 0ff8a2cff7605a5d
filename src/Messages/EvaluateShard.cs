using Akka.Actor;

namespace ActorTraining.Messages;

/// <summary>
/// → a rank's evaluator for run <paramref name="RunIndex"/>: score shard <paramref name="Shard"/> of
/// <paramref name="Shards"/> of the evaluation set (whole batches k ≡ Shard mod Shards) with the checkpoint of
/// <paramref name="What"/>, and send the rows to <paramref name="Collector"/>. <paramref name="Round"/> numbers the
/// supervisor's dispatches: an order of a later round for the same checkpoint replaces an earlier one (its shards were
/// dealt again, a rank having gone). <paramref name="Output"/>: what each clip's row holds.
/// </summary>
public sealed record EvaluateShard(int RunIndex, int Round, EvaluateCheckpoint What, int Shard, int Shards, IActorRef Collector,
    ScoreOutput Output = ScoreOutput.Metrics) : IControlMessage;
