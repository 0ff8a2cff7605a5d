namespace ActorTraining.Messages;

/// <summary>
/// How run <paramref name="RunIndex"/> of the experiment ended: its final checkpoint, or the reason it failed; the
/// restarts after faults (component: cause) and how many generations of ranks trained it.
/// </summary>
public sealed record RunOutcome(int RunIndex, string? FinalCheckpoint, string? Failure, IReadOnlyList<string> Restarts, int Generations);
