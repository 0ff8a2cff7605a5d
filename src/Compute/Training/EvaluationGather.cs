namespace ActorTraining.Compute.Training;

/// <summary>
/// Puts an evaluation set's scored batches back together, whoever scored them and in whatever order they arrive:
/// batch k's rows (in position order, one per readable clip) and summed loss, possibly in several parts (each part
/// small enough for one message). The result takes the batches in batch order, so the scores matrix, the loss sum —
/// added in that order — and hence the metrics are the same bytes however many evaluators shared the set.
/// </summary>
public sealed class EvaluationGather(long batches, Func<long, float[]> targetOf)
{
    sealed record Part(long[] Positions, float[] Scores, double LossSum);

    readonly SortedDictionary<long, Part?[]> _batches = new();
    long _complete;

    /// <summary>Batches expected in all (<see cref="long.MaxValue"/>: as many as were added).</summary>
    public long Batches => batches;

    public bool Complete => _complete == batches;

    /// <summary>Rows scored so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds part <paramref name="part"/> of <paramref name="parts"/> of batch <paramref name="batch"/>; a repeat is ignored. False when it was one.</summary>
    public bool Add(long batch, int part, int parts, long[] positions, float[] scores, double lossSum)
    {
        if (batch < 0 || batch >= batches) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"the set has {batches} batches");
        if (parts < 1 || part < 0 || part >= parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"not a part of {parts}");
        if (positions.Length > 0 && scores.Length % positions.Length != 0) throw new ArgumentException($"{scores.Length} scores for {positions.Length} rows");
        if (!_batches.TryGetValue(batch, out var slots)) _batches[batch] = slots = new Part?[parts];
        if (slots.Length != parts) throw new ArgumentException($"batch {batch} came in {slots.Length} parts and in {parts}");
        if (slots[part] is not null) return false;
        slots[part] = new Part(positions, scores, lossSum);
        Rows += positions.Length;
        if (slots.All(s => s is not null)) _complete++;
        return true;
    }

    /// <summary>Every row's scores, in batch and position order (a prediction's output).</summary>
    public IReadOnlyList<(long Position, float[] Scores)> ScoreRows()
    {
        var rows = new List<(long, float[])>();
        foreach (var part in Parts())
        {
            int c = part.Positions.Length == 0 ? 0 : part.Scores.Length / part.Positions.Length;
            for (int i = 0; i < part.Positions.Length; i++) rows.Add((part.Positions[i], part.Scores.AsSpan(i * c, c).ToArray()));
        }
        return rows;
    }

    /// <summary>Scores, targets, mean loss and metrics of the whole set.</summary>
    public EvaluationResult Result()
    {
        var rows = ScoreRows();
        if (rows.Count == 0) throw new InvalidOperationException("evaluation set is empty: no clip was scored");
        int c = rows[0].Scores.Length;
        var s = new float[rows.Count, c];
        var t = new float[rows.Count, c];
        for (int i = 0; i < rows.Count; i++)
        {
            var target = targetOf(rows[i].Position);
            for (int j = 0; j < c; j++) { s[i, j] = rows[i].Scores[j]; t[i, j] = target[j]; }
        }
        double lossSum = 0;
        foreach (var part in Parts()) lossSum += part.LossSum;
        return new EvaluationResult(s, t, lossSum / rows.Count, Metrics.Compute(s, t));
    }

    /// <summary>An SSAST pretraining evaluation's metrics: the mean over clips of each of
    /// <see cref="Model.SsastPretext.ScoreNames"/> (a row per clip), and the mean loss as eval_loss.</summary>
    public Dictionary<string, double> PretextMetrics()
    {
        var rows = ScoreRows();
        if (rows.Count == 0) throw new InvalidOperationException("evaluation set is empty: no clip was scored");
        var names = Model.SsastPretext.ScoreNames;
        if (rows[0].Scores.Length != names.Length) throw new InvalidOperationException($"a pretext row has {rows[0].Scores.Length} values, not {names.Length}");
        var metrics = new Dictionary<string, double>();
        for (int j = 0; j < names.Length; j++) metrics[names[j]] = rows.Sum(r => (double)r.Scores[j]) / rows.Count;
        metrics["eval_loss"] = Parts().Sum(p => p.LossSum) / rows.Count;
        return metrics;
    }

    IEnumerable<Part> Parts()
    {
        if (batches != long.MaxValue && !Complete) throw new InvalidOperationException($"{_complete} of {batches} batches are in");
        return _batches.Values.SelectMany(slots => slots).Select(p => p!);
    }
}
