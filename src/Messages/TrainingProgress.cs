namespace ActorTraining.Messages;

/// <summary>Trainer → supervisor (progress display, TensorBoard), after each step. <c>Step</c> counts the phase's steps;
/// <c>Lr</c> is the learning rate the step used, <c>GradNorm</c> the global gradient norm before any clipping.</summary>
public sealed record TrainingProgress(int Phase, int PhaseCount, int Epoch, int Epochs, long Step, long Position,
    long EpochSize, double Loss, double BatchesPerSecond, double Lr = double.NaN, double GradNorm = double.NaN) : IControlMessage;
