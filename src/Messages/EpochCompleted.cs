namespace ActorTraining.Messages;

/// <summary>
/// An epoch of a phase was trained and evaluated. <paramref name="Metrics"/> holds the evaluation metrics
/// (accuracy or mAP/mAUC/d′) and the mean training loss; FLOPs are training FLOPs of this epoch; wall and idle
/// seconds are the trainer's (idle = time its thread waited for a batch).
/// </summary>
public sealed record EpochCompleted(int Phase, int Epoch, IReadOnlyDictionary<string, double> Metrics, double Flops,
    double WallSeconds, double IdleSeconds, long Samples, int SkippedFiles) : ISupervisorEvent;
