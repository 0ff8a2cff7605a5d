namespace ActorTraining.Messages;

/// <summary>
/// Evaluator → host: class probabilities per clip, in list order (softmax for single-label models, sigmoid for
/// multi-label ones), and the files that could not be read (they have no row).
/// </summary>
public sealed record ClipScores(IReadOnlyList<float[]> Scores, IReadOnlyList<string> Skipped) : IControlMessage;
