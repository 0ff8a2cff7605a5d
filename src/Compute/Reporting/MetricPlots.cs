using ScottPlot;

namespace ActorTraining.Compute.Reporting;

/// <summary>PNG plots of the run metric against cumulative training FLOPs and against wall time, one line per
/// run, phase boundaries marked by dashed vertical lines in the run's colour (labelled with the next phase's C), and the
/// scores from which the adaptive scheduler ended a phase ringed; a weight average (the run's final checkpoint) is a
/// diamond at its last epoch's FLOPs and time.</summary>
public static class MetricPlots
{
    public sealed record Files(string VersusFlops, string VersusWallTime);

    /// <summary>Writes <c>{outPrefix}-flops.png</c> and <c>{outPrefix}-wall.png</c>; returns their paths.</summary>
    public static Files Write(IReadOnlyList<RunSeries> runs, string outPrefix, int width = 1000, int height = 600)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to plot", nameof(runs));
        var dir = Path.GetDirectoryName(Path.GetFullPath(outPrefix));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var files = new Files(outPrefix + "-flops.png", outPrefix + "-wall.png");
        Plot(runs, r => r.CumulativeFlops / 1e9, "cumulative training GFLOPs", files.VersusFlops, width, height);
        Plot(runs, r => r.WallSeconds, "wall time (s)", files.VersusWallTime, width, height);
        return files;
    }

    static void Plot(IReadOnlyList<RunSeries> runs, Func<EpochRecord, double> x, string xLabel, string path, int width, int height)
    {
        var plot = new Plot();
        var metric = runs[0].Records[0].MetricName;
        var palette = new ScottPlot.Palettes.Category10();
        bool schedulerInLegend = false, averageInLegend = false;
        double top = runs.SelectMany(r => r.Records).Select(r => r.Metric).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        for (int i = 0; i < runs.Count; i++)
        {
            var color = palette.GetColor(i);
            foreach (var averaged in runs[i].Records.Where(r => r.IsWeightAverage))
            {
                var marker = plot.Add.Marker(x(averaged), averaged.Metric, MarkerShape.FilledDiamond, 12, color);
                if (!averageInLegend) marker.LegendText = "weight average";
                averageInLegend = true;
            }
            var records = runs[i].Records.Where(r => !r.IsWeightAverage).ToList();
            var line = plot.Add.Scatter(records.Select(x).ToArray(), records.Select(r => r.Metric).ToArray(), color);
            line.LegendText = runs[i].Label;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            for (int j = 1; j < records.Count; j++)
            {
                if (records[j].PhaseIndex == records[j - 1].PhaseIndex) continue;
                plot.Add.VerticalLine(x(records[j - 1]), 1.5f, color, LinePattern.Dashed);
                // the label inside the plot, at the top, one row per run: on the axis it covered the tick labels
                var label = plot.Add.Text($"→ C={records[j].Factor}", x(records[j - 1]), top);
                label.LabelFontColor = color;
                label.LabelBackgroundColor = Colors.White;
                label.LabelBorderColor = color;
                label.LabelAlignment = Alignment.UpperLeft;
                label.LabelOffsetX = 3;
                label.LabelOffsetY = 3 + 18 * i;
            }
            // where the adaptive phase scheduler decided to end a phase: a ring around the score it decided from
            foreach (var r in records.Where(r => r.Scheduler?.StartsWith("end", StringComparison.Ordinal) == true))
            {
                var marker = plot.Add.Marker(x(r), r.Metric, MarkerShape.OpenCircle, 16, color);
                if (!schedulerInLegend) marker.LegendText = "scheduler ends the phase";
                schedulerInLegend = true;
            }
        }
        plot.Title($"{metric} vs {xLabel}" + (runs.Count > 1 ? "" : $" — {runs[0].Label}"));
        plot.XLabel(xLabel);
        plot.YLabel(metric);
        plot.Axes.Bottom.Min = 0;
        plot.ShowLegend(Alignment.LowerRight);
        // written aside and renamed: every node of a cluster writes the same plots into the shared run directory
        var temporary = $"{path}.{Environment.ProcessId}.tmp.png";
        plot.SavePng(temporary, width, height);
        File.Move(temporary, path, overwrite: true);
    }
}
