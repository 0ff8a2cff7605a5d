namespace ActorTraining.Messages;

/// <summary>
/// Evaluator → host: a row per readable clip, in list order — class probabilities (softmax for single-label models,
/// sigmoid for multi-label ones) or embeddings — with each row's place in the list (<paramref name="Positions"/>), and
/// the files that could not be read (they have no row).
/// </summary>
public sealed record ClipScores(IReadOnlyList<float[]> Scores, IReadOnlyList<string> Skipped, IReadOnlyList<long>? Positions = null) : IControlMessage;
