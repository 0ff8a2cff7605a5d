using Akka.Actor;

namespace ActorTraining.Messages;

// Scoring a checkpoint over a clip list, sharded over ranks and put back together.

/// <summary>Supervisor → evaluator: evaluate the committed checkpoint of (phase, epoch) on the evaluation set
/// (<paramref name="Epoch"/> = <see cref="AveragedWeights"/>: the phase's averaged weights, <see cref="WeightsAveraged"/>).</summary>
public sealed record EvaluateCheckpoint(CheckpointRef Checkpoint, PhasePlan Phase, int Epoch) : IControlMessage
{
    /// <summary>The epoch number that stands for a phase's averaged weights: no epoch of its own, and never a real one.</summary>
    public const int AveragedWeights = -1;
}

/// <summary>
/// → a rank's evaluator for run <paramref name="RunIndex"/>: score shard <paramref name="Shard"/> of
/// <paramref name="Shards"/> of the evaluation set (whole batches k ≡ Shard mod Shards) with the checkpoint of
/// <paramref name="What"/>, and send the rows to <paramref name="Collector"/>. <paramref name="Round"/> numbers the
/// supervisor's dispatches: an order of a later round for the same checkpoint replaces an earlier one (its shards were
/// dealt again, a rank having gone). <paramref name="Output"/>: what each clip's row holds.
/// </summary>
public sealed record EvaluateShard(int RunIndex, int Round, EvaluateCheckpoint What, int Shard, int Shards, IActorRef Collector,
    ScoreOutput Output = ScoreOutput.Metrics) : IControlMessage;

/// <summary>Evaluator → collector: the shard could not be scored (<paramref name="Cause"/>); the evaluation must start again.</summary>
public sealed record EvaluationAborted(int Round, int Shard, string Cause, bool Permanent) : IControlMessage;

/// <summary>Evaluator → supervisor: metrics of the checkpoint of (phase, epoch).</summary>
public sealed record EvaluationDone(int Phase, int Epoch, IReadOnlyDictionary<string, double> Metrics) : IControlMessage;

/// <summary>Evaluator → supervisor: another batch was scored (the watchdog's sign of life during an evaluation).</summary>
public sealed record EvaluationProgress(int Phase, int Epoch, int Batches) : IControlMessage;

/// <summary>
/// Evaluator → collector: part <paramref name="Part"/> of <paramref name="Parts"/> of the scored evaluation batch
/// <paramref name="Batch"/>: the epoch positions of its rows, their scores row-major [rows, classes], the summed loss
/// (in part 0), and the batch's unreadable files. Parts keep every message far below the remoting frame size.
/// </summary>
public sealed record ScoredRows(int Round, long Batch, int Part, int Parts, long[] Positions, float[] Scores, double LossSum,
    IReadOnlyList<string> Skipped) : IControlMessage;

/// <summary>
/// Evaluator → host: a row per readable clip, in list order — class probabilities (softmax for single-label models,
/// sigmoid for multi-label ones) or embeddings — with each row's place in the list (<paramref name="Positions"/>), and
/// the files that could not be read (they have no row).
/// </summary>
public sealed record ClipScores(IReadOnlyList<float[]> Scores, IReadOnlyList<string> Skipped, IReadOnlyList<long>? Positions = null) : IControlMessage;

/// <summary>What an evaluation pass sends back per clip: scores for the metrics (<c>train</c>, <c>evaluate</c>), class
/// probabilities (<c>predict</c>) or the pooled representation before the head (<c>embed</c>).</summary>
public enum ScoreOutput { Metrics, Probabilities, Embeddings }
