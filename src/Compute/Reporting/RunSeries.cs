namespace ActorTraining.Compute.Reporting;

/// <summary>One run's records with the label used in plots and tables, and the directory it came from.</summary>
public sealed record RunSeries(string Label, string Directory, IReadOnlyList<EpochRecord> Records)
{
    /// <summary>Every run logged in a run directory's metrics.jsonl, one series per <see cref="EpochRecord.Run"/>
    /// (a nameless run is labelled with the folder name). Baselines (one phase at C = 1) come first, so that in
    /// a directory holding a curriculum and its baseline the baseline is the reference.</summary>
    public static IReadOnlyList<RunSeries> LoadAll(string runDirectory)
    {
        var records = RunLog.Read(Path.Combine(runDirectory, RunLog.JsonlName));
        if (records.Count == 0) throw new InvalidDataException($"{runDirectory}: metrics.jsonl holds no epochs yet");
        var full = Path.GetFullPath(runDirectory);
        var folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        return records.GroupBy(r => r.Run)
            .Select(g => new RunSeries(string.IsNullOrWhiteSpace(g.Key) ? folder : g.Key, full, g.ToArray()))
            .OrderBy(s => s.IsBaseline ? 0 : 1)
            .ToArray();
    }

    /// <summary>A single phase at full resolution.</summary>
    public bool IsBaseline => Records.All(r => r.PhaseIndex == 0 && r.Factor == 1);

    public EpochRecord Last => Records[^1];
}
