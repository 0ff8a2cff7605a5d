namespace ActorTraining.Compute.Reporting;

/// <summary>One run's records with the label used in plots and tables, and the directory it came from.</summary>
public sealed record RunSeries(string Label, string Directory, IReadOnlyList<EpochRecord> Records)
{
    /// <summary>Reads a run directory's metrics.jsonl; the label is the records' run name, else the folder name.</summary>
    public static RunSeries Load(string runDirectory)
    {
        var records = RunLog.Read(Path.Combine(runDirectory, RunLog.JsonlName));
        if (records.Count == 0) throw new InvalidDataException($"{runDirectory}: metrics.jsonl holds no epochs yet");
        var name = string.IsNullOrWhiteSpace(records[0].Run) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDirectory))) : records[0].Run;
        return new RunSeries(name, Path.GetFullPath(runDirectory), records);
    }

    public EpochRecord Last => Records[^1];
}
