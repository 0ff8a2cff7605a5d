using System.Globalization;
using ActorTraining.Actors;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>Text tables from runs' journals: per phase (method, C, tokens per clip, epochs, FLOPs, wall, metric, idle) and a comparison of runs.</summary>
public static class RunSummary
{
    public static string Phases(string title, RunState state, ExperimentConfig config, int classes, string metric)
    {
        var fine = RunSettings.FineModelOf(config, classes);
        var lines = new List<string> { title, $"  {"phase",-6}{"method",-10}{"C",3}{"tokens",8}{"epochs",8}{"TFLOPs",10}{"wall s",9}{"idle s",9}  {metric}" };
        foreach (var phase in state.Phases)
        {
            var epochs = state.Epochs.Where(e => e.Phase == phase.Index).ToList();
            var tokens = PhaseCompression.Of(phase.Method, phase.Factor, phase.Pooling).ModelConfig(fine).NumPatches;
            var last = epochs.Count > 0 && epochs[^1].Metrics.TryGetValue(metric, out var v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
            lines.Add($"  {phase.Index + 1,-6}{phase.Method + (phase.Method == "pool" ? "-" + phase.Pooling : ""),-10}{phase.Factor,3}{tokens,8}" +
                      $"{epochs.Count + "/" + phase.Epochs,8}{epochs.Sum(e => e.Flops) / 1e12,10:F3}{epochs.Sum(e => e.WallSeconds),9:F1}" +
                      $"{epochs.Sum(e => e.IdleSeconds),9:F1}  {last}");
        }
        return string.Join(Environment.NewLine, lines);
    }

    public static string Comparison(IReadOnlyList<(string Name, RunState State)> runs, string metric)
    {
        var lines = new List<string> { "comparison", $"  {"run",-14}{"TFLOPs",10}{"wall s",9}{"idle %",8}  {"final " + metric,-14}curriculum" };
        foreach (var (name, state) in runs)
        {
            var flops = state.Epochs.Sum(e => e.Flops);
            var wall = state.Epochs.Sum(e => e.WallSeconds);
            var idle = state.Epochs.Sum(e => e.IdleSeconds);
            var final = state.Epochs.Count > 0 && state.Epochs[^1].Metrics.TryGetValue(metric, out var v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
            var curriculum = string.Join(" → ", state.Phases.Select(p => $"{p.Method} C={p.Factor}×{p.Epochs}"));
            lines.Add($"  {name,-14}{flops / 1e12,10:F3}{wall,9:F1}{100 * idle / Math.Max(1e-9, wall),8:F1}  {final,-14}{curriculum}");
        }
        if (runs.Count > 1)
        {
            var baseFlops = runs[^1].State.Epochs.Sum(e => e.Flops);
            var baseWall = runs[^1].State.Epochs.Sum(e => e.WallSeconds);
            var flops = runs[0].State.Epochs.Sum(e => e.Flops);
            var wall = runs[0].State.Epochs.Sum(e => e.WallSeconds);
            if (baseFlops > 0 && baseWall > 0)
                lines.Add($"  {runs[0].Name} vs {runs[^1].Name}: {100 * (1 - flops / baseFlops):F1} % fewer training FLOPs, {100 * (1 - wall / baseWall):F1} % less trainer wall time");
        }
        return string.Join(Environment.NewLine, lines);
    }
}
