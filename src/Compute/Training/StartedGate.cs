using System.Globalization;

namespace ActorTraining.Compute.Training;

/// <summary>
/// Whether a phase has clearly started learning, so that the adaptive scheduler may end it for lack of progress: "no
/// new best for a few epochs" cannot tell a phase that learned all it can from one that has not begun (a coarse phase
/// at chance for 8 epochs was ended so, BENCHMARKS (a)). Started means both:
/// <list type="number">
/// <item>its best metric (accuracy or mAP) is at least <see cref="Threshold"/>: chance plus 3 standard errors of a
/// chance-level score on the evaluation set;</item>
/// <item>its smoothed training-loss curve, log loss against log FLOPs, has passed its steepest point — it is no longer
/// in (or before) its fall. Asked only of a phase whose weights had not started before it (the first phase, or one
/// carried over from a phase still at chance): one that goes on from learned weights has no plateau to leave, and the
/// log of its own FLOPs compresses its later epochs, so a steady fall would look ever steeper and never pass.</item>
/// </list>
/// </summary>
public static class StartedGate
{
    /// <summary>How many epochs the training loss is averaged over before slopes are taken.</summary>
    public const int Smoothing = 3;

    /// <summary>
    /// Chance + 3 standard errors: <paramref name="chance"/> is 1/classes for accuracy or the mean label prior for mAP;
    /// the standard error is a chance-level hit rate's over <paramref name="evalClips"/> clips, √(p(1−p)/n).
    /// </summary>
    public static double Threshold(double chance, int evalClips)
    {
        if (!(chance > 0 && chance < 1)) throw new ArgumentOutOfRangeException(nameof(chance), chance, "chance must be in (0, 1)");
        if (evalClips < 1) throw new ArgumentOutOfRangeException(nameof(evalClips), evalClips, "at least one evaluation clip");
        return chance + 3 * Math.Sqrt(chance * (1 - chance) / evalClips);
    }

    /// <summary>
    /// The verdict on a phase's epochs 0…k: <paramref name="metric"/> its evaluation scores (higher is better; NaN = none),
    /// <paramref name="trainLoss"/> its mean training losses and <paramref name="flops"/> each epoch's training FLOPs;
    /// <paramref name="fromLearnedWeights"/>: its weights were carried over from a phase that had started (only the
    /// score is asked then). Null when started; otherwise why not, in numbers ("its best accuracy 0.12 is below …").
    /// </summary>
    public static string? NotStarted(IReadOnlyList<double> metric, IReadOnlyList<double> trainLoss, IReadOnlyList<double> flops,
        double threshold, string metricName, bool fromLearnedWeights = false)
    {
        if (metric.Count != trainLoss.Count || metric.Count != flops.Count)
            throw new ArgumentException($"one score, loss and FLOPs count per epoch (got {metric.Count}, {trainLoss.Count}, {flops.Count})");
        if (AtChance(metric, threshold))
            return Say($"its best {metricName} {Best(metric):0.####} is below {threshold:0.####} (chance + 3 standard errors)");
        return fromLearnedWeights ? null : SteepestPassed(trainLoss, flops);
    }

    /// <summary>Whether no score of <paramref name="metric"/> reached <paramref name="threshold"/> (none scored counts as at chance).</summary>
    public static bool AtChance(IReadOnlyList<double> metric, double threshold) => !(Best(metric) >= threshold);

    static double Best(IReadOnlyList<double> metric) => metric.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Null when the smoothed log-loss-against-log-FLOPs curve has a steepest (most negative) slope before its
    /// latest one and is flatter now; otherwise why not.</summary>
    static string? SteepestPassed(IReadOnlyList<double> trainLoss, IReadOnlyList<double> flops)
    {
        for (int k = 0; k < trainLoss.Count; k++)
        {
            if (!(trainLoss[k] > 0)) return Say($"epoch {k + 1} has no training loss");
            if (!(flops[k] > 0)) return Say($"epoch {k + 1} has no training FLOPs");
        }
        var logLoss = trainLoss.Select(l => Math.Log(l)).ToArray();
        var cumulative = new double[flops.Count];
        for (int k = 0; k < flops.Count; k++) cumulative[k] = (k > 0 ? cumulative[k - 1] : 0) + flops[k];
        // point k: the mean log loss of epochs k − 2…k against the log of the FLOPs trained by epoch k's end
        var x = Enumerable.Range(Smoothing - 1, Math.Max(0, trainLoss.Count - Smoothing + 1)).Select(k => Math.Log(cumulative[k])).ToList();
        var y = Enumerable.Range(Smoothing - 1, x.Count).Select(k => logLoss[(k - Smoothing + 1)..(k + 1)].Average()).ToList();
        if (y.Count < 3) return Say($"too few epochs ({trainLoss.Count}) to find the training loss's steepest fall");
        var slopes = Enumerable.Range(1, y.Count - 1).Select(i => (y[i] - y[i - 1]) / (x[i] - x[i - 1])).ToList();
        int steepest = slopes.IndexOf(slopes.Min());
        double last = slopes[^1];
        if (slopes[steepest] < 0 && steepest < slopes.Count - 1 && last > slopes[steepest]) return null;
        return Say($"its training loss is still in its steepest fall ({last:0.###} log loss per log FLOPs, the steepest {slopes[steepest]:0.###})");
    }

    static string Say(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
