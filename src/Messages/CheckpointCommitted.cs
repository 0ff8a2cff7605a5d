namespace ActorTraining.Messages;

/// <summary>
/// A checkpoint file became trusted. <paramref name="DataPosition"/> is the number of work items of
/// <paramref name="Epoch"/> (in its shuffled order) already consumed; <paramref name="EpochComplete"/> marks the
/// checkpoint written after the epoch's last batch. <paramref name="EpochWallSeconds"/> and
/// <paramref name="EpochIdleSeconds"/>, loss sum, samples, training FLOPs and skipped files carry the epoch's totals so
/// far, so a resumed epoch reports whole ones. <paramref name="Lr"/> is the learning rate of the last step taken,
/// <paramref name="EpochGradNormMax"/> the largest gradient norm of the epoch so far (0 in journals written before it).
/// </summary>
public sealed record CheckpointCommitted(string Path, string Sha256, int Phase, int Epoch, long Step,
    long DataPosition, bool EpochComplete, double EpochWallSeconds, double EpochIdleSeconds, double EpochLossSum,
    long EpochSamples, double EpochFlops, int EpochSkipped, double Lr, double EpochGradNormMax = 0) : ISupervisorEvent;
