namespace ActorTraining.Compute.Distributed;

/// <summary>
/// What one step adds up over the ranks besides the gradients, carried in the same all-reduce: the summed loss of the
/// samples trained (mean loss × samples), how many samples were trained and how many clips of the batch could not be
/// read, and whether any rank was asked to pause — so every rank sees the same answer after the same step and they
/// all stop together, with no extra round trip. <paramref name="PhaseEpochs"/>: how many epochs the phase has as each
/// rank was told (the adaptive scheduler grants one more at a time); summed, it comes back as the mean rounded down,
/// which is the same number on every rank and never more than any rank was told — so all end the epoch the same way.
/// <paramref name="GradNorm"/>: the global gradient norm of the step (set after the all-reduce; 0 when no step was taken).
/// </summary>
public readonly record struct StepTotals(double LossSum, int Samples, int Skipped, bool Pause, int PhaseEpochs = 0, double GradNorm = 0)
{
    /// <summary>The global batch's mean loss (NaN when no sample of it could be read).</summary>
    public double MeanLoss => Samples > 0 ? LossSum / Samples : double.NaN;
}
