namespace ActorTraining.Messages;

/// <summary>
/// One phase of the curriculum as the supervisor and pipeline need it: compression (method fshift|pool|patch,
/// factor C, pooling max|avg), epochs, learning rate, warmup, and the phase's input length in frames.
/// </summary>
public sealed record PhasePlan(int Index, string Method, int Factor, string Pooling, int Epochs, double Lr,
    int WarmupSteps, int InputFrames);
