namespace ActorTraining.Messages;

/// <summary>
/// An epoch's running totals so far, the same on every rank (they are summed in the all-reduce): trainer wall and
/// idle seconds, summed loss, samples trained, training FLOPs, clips skipped as unreadable, the largest gradient norm.
/// </summary>
public sealed record EpochTotals(double WallSeconds, double IdleSeconds, double LossSum, long Samples, double Flops, int Skipped,
    double GradNormMax = 0)
{
    public static readonly EpochTotals Zero = new(0, 0, 0, 0, 0, 0);
}
