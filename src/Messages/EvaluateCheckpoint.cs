namespace ActorTraining.Messages;

/// <summary>Supervisor → evaluator: evaluate the committed checkpoint of (phase, epoch) on the evaluation set
/// (<paramref name="Epoch"/> = <see cref="AveragedWeights"/>: the phase's averaged weights, <see cref="WeightsAveraged"/>).</summary>
public sealed record EvaluateCheckpoint(CheckpointRef Checkpoint, PhasePlan Phase, int Epoch) : IControlMessage
{
    /// <summary>The epoch number that stands for a phase's averaged weights: no epoch of its own, and never a real one.</summary>
    public const int AveragedWeights = -1;
}
