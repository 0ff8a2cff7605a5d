using System.Globalization;

namespace ActorTraining.Compute.Training;

/// <summary>The adaptive scheduler's rule parameters (<c>training.adaptive</c>).</summary>
/// <param name="MinEpochs">every coarse phase trains at least this many epochs (≥ 2: see <see cref="PhaseLengthRule"/>)</param>
/// <param name="Patience">epochs without a new best score that end a phase</param>
/// <param name="Window">epochs over which the recent gain is measured</param>
/// <param name="ExpectedGain">the next resolution's early gain per epoch, as a fraction of the best gain per epoch this
/// phase had</param>
public sealed record PhaseLengthSettings(int MinEpochs, int Patience, int Window, double ExpectedGain);

/// <summary>What the rule decided, and why in numbers.</summary>
public readonly record struct PhaseLengthVerdict(bool EndsPhase, string Reason);

/// <summary>
/// When a coarse phase should hand over to the next, finer one — the paper fixes phase lengths by hand and leaves a
/// scheduler to future work. Judged after each evaluated epoch on the running best of the phase's scores (a loss is
/// negated), so one noisy epoch neither ends a phase nor keeps it alive:
/// <list type="number">
/// <item>Shorter than <c>MinEpochs</c>: go on.</item>
/// <item>No new best for <c>Patience</c> epochs: end (the phase has stopped learning).</item>
/// <item>Gain per FLOP: the running best rose by <c>g_recent</c> per epoch over the last <c>Window</c> epochs. The next
/// resolution is expected to gain <c>ExpectedGain × g_peak</c> per epoch early on (<c>g_peak</c>: this phase's best
/// gain per epoch over any window), at <c>1 / cost ratio</c> times the FLOPs of an epoch here. End when
/// <c>g_recent / cost_here &lt; ExpectedGain · g_peak / cost_next</c>: another epoch here buys less per FLOP than the
/// next resolution is expected to. A cheap phase (a small cost ratio) is thereby kept longer than an expensive one.</item>
/// </list>
/// The decision about epoch <c>k + 2</c> is made from the scores of epochs 0…k — one epoch behind the trainer, so it
/// never waits for an evaluation; hence at least two epochs per phase.
/// </summary>
public static class PhaseLengthRule
{
    /// <param name="scores">the phase's evaluated epochs 0…k, as recorded (NaN counts as no score)</param>
    /// <param name="nextEpoch">the epoch being decided (0-based)</param>
    /// <param name="costRatio">FLOPs of an epoch of this phase / of the next phase (≤ 1 for coarse to fine)</param>
    /// <param name="signal">the score's name, for the reason</param>
    public static PhaseLengthVerdict Decide(IReadOnlyList<double> scores, bool higherIsBetter, int nextEpoch, double costRatio,
        PhaseLengthSettings settings, string signal)
    {
        if (scores.Count == 0) throw new ArgumentException("the rule needs the score of at least one epoch", nameof(scores));
        if (nextEpoch < settings.MinEpochs)
            return new(false, $"minimum length: epoch {nextEpoch + 1} of at least {settings.MinEpochs}");
        int k = scores.Count - 1;
        // running best, oriented so that larger is better; an epoch without a score keeps the best so far
        var best = new double[scores.Count];
        int bestAt = -1;
        for (int i = 0; i <= k; i++)
        {
            double v = Oriented(scores[i], higherIsBetter);
            double before = i > 0 ? best[i - 1] : double.NegativeInfinity;
            best[i] = v > before ? v : before;
            if (v > before) bestAt = i;
        }
        if (bestAt < 0)
            return new(true, $"no epoch of this phase has a {signal} score (epochs 1–{k + 1})");
        if (k - bestAt >= settings.Patience)
            return new(true, $"no new best {signal} for {k - bestAt} epochs (best {Show(best[bestAt], higherIsBetter)} at epoch {bestAt + 1}; patience {settings.Patience})");
        int w = settings.Window;
        if (k < w || double.IsNegativeInfinity(best[k - w]))
            return new(false, $"{signal} {Show(best[k], higherIsBetter)} at epoch {bestAt + 1}; too few epochs to measure a {w}-epoch gain");
        double recent = (best[k] - best[k - w]) / w;
        double peak = 0;
        for (int j = w; j <= k; j++)
            if (!double.IsNegativeInfinity(best[j - w])) peak = Math.Max(peak, (best[j] - best[j - w]) / w);
        double threshold = settings.ExpectedGain * costRatio * peak;
        string numbers = string.Create(CultureInfo.InvariantCulture,
            $"{signal} gained {recent:0.#####}/epoch over the last {w} epochs; the next resolution is expected to give " +
            $"{settings.ExpectedGain:0.###} × {peak:0.#####}/epoch (this phase's best) at {1 / costRatio:0.##}× the FLOPs, " +
            $"{threshold:0.#####}/epoch here");
        return recent < threshold ? new(true, numbers + ": end") : new(false, numbers + ": go on");
    }

    static double Oriented(double score, bool higherIsBetter) =>
        double.IsNaN(score) ? double.NegativeInfinity : higherIsBetter ? score : -score;

    static string Show(double oriented, bool higherIsBetter) =>
        (higherIsBetter ? oriented : -oriented).ToString("0.####", CultureInfo.InvariantCulture);
}
