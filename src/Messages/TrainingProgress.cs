namespace ActorTraining.Messages;

/// <summary>Trainer → supervisor (progress display, TensorBoard), after each step. <c>Step</c> counts the phase's steps;
/// <c>Lr</c> is the learning rate the step used.</summary>
public sealed record TrainingProgress(int Phase, int PhaseCount, int Epoch, int Epochs, long Step, long Position,
    long EpochSize, double Loss, double BatchesPerSecond, double Lr = double.NaN) : IControlMessage;
