using System.Globalization;
using System.Text;

namespace ActorTraining.Compute.Reporting;

/// <summary>Several runs side by side: the first is the reference (the baseline); the others are reported as
/// fractions of its FLOPs and wall time and as a difference of its final metric.</summary>
public static class RunComparison
{
    /// <summary>Each path is a run directory (holds metrics.jsonl, possibly with several runs: see
    /// <see cref="RunSeries.LoadAll"/>) or a folder whose sub-folders are run directories (taken in name order).
    /// Order is kept: the first run found is the reference.</summary>
    public static IReadOnlyList<RunSeries> Load(IEnumerable<string> paths)
    {
        var runs = new List<RunSeries>();
        foreach (var path in paths)
        {
            if (File.Exists(Path.Combine(path, RunLog.JsonlName))) { runs.AddRange(RunSeries.LoadAll(path)); continue; }
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such run directory");
            var children = Directory.GetDirectories(path).Where(d => File.Exists(Path.Combine(d, RunLog.JsonlName)))
                .Order(StringComparer.Ordinal).ToArray();
            if (children.Length == 0) throw new FileNotFoundException($"{path}: no metrics.jsonl here or in its sub-folders (is this a run directory?)");
            runs.AddRange(children.SelectMany(RunSeries.LoadAll));
        }
        // the same label twice (e.g. two baselines) would be ambiguous in the legend
        return runs.Select(r => runs.Count(o => o.Label == r.Label) > 1 ? r with { Label = $"{r.Label} ({Path.GetFileName(r.Directory)})" } : r).ToArray();
    }

    public static string FormatTable(IReadOnlyList<RunSeries> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to compare", nameof(runs));
        var reference = runs[0].Last;
        var metric = reference.MetricName;
        var rows = new List<string[]> { new[] { "run", "epochs", $"final {metric}", $"Δ {metric}", "FLOPs", "FLOPs/ref", "wall", "wall/ref" } };
        foreach (var run in runs)
        {
            var last = run.Last;
            rows.Add([run.Label, last.RunEpoch.ToString(CultureInfo.InvariantCulture), Units.Metric(last.Metric),
                (last.Metric - reference.Metric).ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture),
                Units.Flops(last.CumulativeFlops), Fraction(last.CumulativeFlops, reference.CumulativeFlops),
                Units.Seconds(last.WallSeconds), Fraction(last.WallSeconds, reference.WallSeconds)]);
        }
        var sb = new StringBuilder($"Reference (first run): {runs[0].Label}\n");
        sb.Append(TextTable.Format(rows));
        return sb.ToString();
    }

    static string Fraction(double value, double reference) =>
        reference > 0 ? (value / reference).ToString("F3", CultureInfo.InvariantCulture) : "n/a";
}
