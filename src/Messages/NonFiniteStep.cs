namespace ActorTraining.Messages;

/// <summary>
/// Where a training step went non-finite: phase and epoch (0-based), the phase's step it would have been (1-based, as
/// the progress line counts), what was NaN or infinite ("loss" or "gradient norm") and its value. Its update was not
/// applied. The same step of the same phase failing again after a restart is a deterministic divergence.
/// </summary>
public sealed record NonFiniteStep(int Phase, int Epoch, long Step, string Quantity, double Value)
{
    public bool SameStepAs(NonFiniteStep other) => Phase == other.Phase && Step == other.Step;
}
