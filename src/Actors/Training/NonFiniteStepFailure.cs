using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>A rank's <see cref="NonFiniteStepException"/> with where it happened, as the supervisor journals it.</summary>
public sealed class NonFiniteStepFailure(NonFiniteStep step, NonFiniteStepException cause)
    : Exception($"phase {step.Phase + 1}, epoch {step.Epoch + 1}, step {step.Step}: {cause.Message}", cause)
{
    public NonFiniteStep Step { get; } = step;
}
