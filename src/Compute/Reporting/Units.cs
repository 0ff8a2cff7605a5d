using System.Globalization;

namespace ActorTraining.Compute.Reporting;

/// <summary>How reports print FLOPs, durations, metrics and method names.</summary>
public static class Units
{
    public static string Flops(double flops) => flops switch
    {
        >= 1e15 => FormattableString.Invariant($"{flops / 1e15:F2} PFLOP"),
        >= 1e12 => FormattableString.Invariant($"{flops / 1e12:F2} TFLOP"),
        >= 1e9 => FormattableString.Invariant($"{flops / 1e9:F2} GFLOP"),
        _ => FormattableString.Invariant($"{flops / 1e6:F2} MFLOP"),
    };
    public static string Seconds(double s) =>
        s >= 3600 ? FormattableString.Invariant($"{s / 3600:F2} h") : s >= 60 ? FormattableString.Invariant($"{s / 60:F1} min") : FormattableString.Invariant($"{s:F1} s");
    public static string Metric(double m) => double.IsNaN(m) ? "n/a" : m.ToString("F4", CultureInfo.InvariantCulture);
}
