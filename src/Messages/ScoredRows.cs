namespace ActorTraining.Messages;

/// <summary>
/// Evaluator → collector: part <paramref name="Part"/> of <paramref name="Parts"/> of the scored evaluation batch
/// <paramref name="Batch"/>: the epoch positions of its rows, their scores row-major [rows, classes], the summed loss
/// (in part 0), and the batch's unreadable files. Parts keep every message far below the remoting frame size.
/// </summary>
public sealed record ScoredRows(int Round, long Batch, int Part, int Parts, long[] Positions, float[] Scores, double LossSum,
    IReadOnlyList<string> Skipped) : IControlMessage;
