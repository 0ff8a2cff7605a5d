namespace ActorTraining.Messages;

/// <summary>Trainer → progress display, after each step.</summary>
public sealed record TrainingProgress(int Phase, int PhaseCount, int Epoch, int Epochs, long Step, long Position,
    long EpochSize, double Loss, double BatchesPerSecond) : IControlMessage;
