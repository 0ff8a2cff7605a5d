using System.Globalization;

namespace ActorTraining.Compute.Training;

/// <summary>What one burst of a probe measured: the evaluation loss before and after <paramref name="Steps"/> training
/// steps costing <paramref name="TrainFlops"/>.</summary>
public readonly record struct ProbeMeasure(double StartLoss, double Loss, int Steps, double TrainFlops)
{
    /// <summary>Evaluation loss gained per training FLOP (negative when the burst made it worse).</summary>
    public double Slope => (StartLoss - Loss) / TrainFlops;

    /// <summary>The burst lowered the evaluation loss by at least <see cref="SlopeRule.LearnsBy"/> of it.</summary>
    public bool Learns => StartLoss - Loss >= SlopeRule.LearnsBy * StartLoss;
}

/// <summary>
/// The adaptive scheduler's second rule: end a started coarse phase once another stretch of it lowers the evaluation
/// loss less per FLOP than the next resolution does. Both are measured by one probe from the same epoch-end checkpoint,
/// for the same FLOPs: the phase continued (its optimiser and schedule), and the next resolution through the phase
/// transfer (a fresh optimiser, as the next phase starts). Paired so, the two carry the same noise of a short burst
/// and a small evaluation set, which a slope read from the phase's epoch history and set against a burst would not:
/// the first steps of a burst fall faster than any epoch average.
/// </summary>
public static class SlopeRule
{
    /// <summary>How much a burst must lower the evaluation loss (a fraction of it) to count as learning.</summary>
    public const double LearnsBy = 0.01;

    /// <summary>How many slope probes a phase may take: the second one <c>window</c> epochs after the first.</summary>
    public const int MaxProbesPerPhase = 2;

    public static PhaseLengthVerdict Decide(ProbeMeasure here, ProbeMeasure next)
    {
        string numbers = string.Create(CultureInfo.InvariantCulture,
            $"for the same FLOPs, this phase lowered the eval loss {here.StartLoss:0.####} → {here.Loss:0.####} in {here.Steps} steps " +
            $"({PerTera(here.Slope)}/TFLOP) and the next resolution {next.StartLoss:0.####} → {next.Loss:0.####} in {next.Steps} steps " +
            $"({PerTera(next.Slope)}/TFLOP)");
        return next.Slope > here.Slope ? new(true, numbers + ": end") : new(false, numbers + ": go on");
    }

    static string PerTera(double perFlop) => (perFlop * 1e12).ToString("0.####", CultureInfo.InvariantCulture);
}
