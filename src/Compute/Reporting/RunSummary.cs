namespace ActorTraining.Compute.Reporting;

/// <summary>What `train` prints when the experiment ends: each run's phase table (from metrics.jsonl), its final checkpoint
/// and restarts, then the comparison of the runs (or the one run's curves) as tables and plots.</summary>
public static class RunSummary
{
    /// <summary>How one run of the experiment ended.</summary>
    public sealed record Ended(string Label, string? FinalCheckpoint, IReadOnlyList<string> Restarts, string? Failure);

    /// <summary>Writes the summary to stdout; the first run's failure, if any.</summary>
    public static string? Write(string runDirectory, IReadOnlyList<Ended> runs, ClipNotes clips)
    {
        var jsonl = Path.Combine(runDirectory, RunLog.JsonlName);
        var log = File.Exists(jsonl) ? RunLog.Read(jsonl) : [];
        foreach (var r in runs)
        {
            var records = log.Where(x => x.Run == r.Label).ToList();
            if (records.Count == 0) continue;
            Console.Write(PhaseSummary.FormatTable(r.Label, records, clips.Skipped, clips.Padded.Count));
            if (r.FinalCheckpoint is { } checkpoint) Console.WriteLine($"final checkpoint: {checkpoint}");
            if (r.Restarts.Count > 0) Console.WriteLine($"restarts after faults: {r.Restarts.Count} ({string.Join("; ", r.Restarts)})");
            Console.WriteLine();
        }
        if (runs.Count > 1 && runs.All(r => r.Failure is null))
        {
            var series = RunSeries.LoadAll(runDirectory);
            Console.Write(RunComparison.FormatTable(series));
            var plots = MetricPlots.Write(series, Path.Combine(runDirectory, "comparison"));
            Console.WriteLine($"plots: {plots.VersusFlops}, {plots.VersusWallTime}");
        }
        else if (runs.Count == 1 && runs[0].Failure is null)
        {
            var plots = MetricPlots.Write(RunSeries.LoadAll(runDirectory), Path.Combine(runDirectory, "metric"));
            Console.WriteLine($"plots: {plots.VersusFlops}, {plots.VersusWallTime}");
        }
        return runs.FirstOrDefault(r => r.Failure is not null)?.Failure;
    }
}
