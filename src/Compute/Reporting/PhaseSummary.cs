using System.Globalization;
using System.Text;

namespace ActorTraining.Compute.Reporting;

/// <summary>One row of the end-of-run table: a phase's method, C, tokens per clip, epochs, the FLOPs and wall
/// time it took, and the metric at its end.</summary>
public sealed record PhaseSummary(int PhaseIndex, string Method, int Factor, string Pooling, int TokensPerClip, int Epochs,
    double Flops, double WallSeconds, string MetricName, double FinalMetric)
{
    /// <summary>Per-phase rows from ONE run's records (cumulative values differenced at phase ends); a weight average's
    /// line is not an epoch of its phase.</summary>
    public static IReadOnlyList<PhaseSummary> From(IReadOnlyList<EpochRecord> records)
    {
        var rows = new List<PhaseSummary>();
        double flopsBefore = 0, wallBefore = 0;
        foreach (var phase in records.Where(r => !r.IsWeightAverage).GroupBy(r => r.PhaseIndex).OrderBy(g => g.Key))
        {
            var last = phase.MaxBy(r => r.Epoch)!;
            rows.Add(new PhaseSummary(phase.Key, last.Method, last.Factor, last.Pooling, last.TokensPerClip, phase.Count(),
                last.CumulativeFlops - flopsBefore, last.WallSeconds - wallBefore, last.MetricName, last.Metric));
            (flopsBefore, wallBefore) = (last.CumulativeFlops, last.WallSeconds);
        }
        return rows;
    }

    /// <summary>The summary table as text, with a total line; lists skipped files (unreadable audio) if any.</summary>
    public static string FormatTable(string runLabel, IReadOnlyList<EpochRecord> records, IReadOnlyCollection<string>? skippedFiles = null,
        int paddedClips = 0)
    {
        var rows = From(records);
        var sb = new StringBuilder();
        sb.AppendLine($"Run: {runLabel}");
        var table = new List<string[]> { new[] { "phase", "method", "C", "tokens/clip", "epochs", "FLOPs", "wall", rows.FirstOrDefault()?.MetricName ?? "metric" } };
        foreach (var r in rows)
            table.Add([r.PhaseIndex.ToString(CultureInfo.InvariantCulture), r.Factor == 1 ? "full" : Compression.Compression.Parse(r.Method, r.Factor, r.Pooling).Name,
                r.Factor.ToString(CultureInfo.InvariantCulture), r.TokensPerClip.ToString(CultureInfo.InvariantCulture),
                r.Epochs.ToString(CultureInfo.InvariantCulture), Units.Flops(r.Flops), Units.Seconds(r.WallSeconds), Units.Metric(r.FinalMetric)]);
        if (records.LastOrDefault(r => !r.IsWeightAverage) is { } last)
        {
            table.Add(["total", "", "", "", rows.Sum(r => r.Epochs).ToString(CultureInfo.InvariantCulture), Units.Flops(last.CumulativeFlops),
                Units.Seconds(last.WallSeconds), Units.Metric(last.Metric)]);
        }
        // the run's final checkpoint when there is one: its own row, beside the last epoch's metric above
        foreach (var averaged in records.Where(r => r.IsWeightAverage))
            table.Add(["weight average", averaged.AveragedFrom == averaged.AveragedTo ? $"epoch {averaged.AveragedFrom}" : $"epochs {averaged.AveragedFrom}–{averaged.AveragedTo}",
                "", "", "", "", "", Units.Metric(averaged.Metric)]);
        sb.Append(TextTable.Format(table));
        if (records.Count > 0)
            sb.AppendLine($"trainer idle: {Units.Seconds(records[^1].TrainerIdleSeconds)} of {Units.Seconds(records[^1].WallSeconds)} wall");
        if (paddedClips > 0)
            sb.AppendLine($"zero-padded to one {new Features.FbankOptions().FrameLengthMs.ToString(CultureInfo.InvariantCulture)} ms analysis window: {paddedClips} clip(s) shorter than it");
        if (skippedFiles is { Count: > 0 })
        {
            sb.AppendLine($"skipped {skippedFiles.Count} unreadable file(s):");
            foreach (var f in skippedFiles) sb.AppendLine("  " + f);
        }
        return sb.ToString();
    }

}
