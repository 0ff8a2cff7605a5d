using System.Diagnostics;

namespace ActorTraining.Actors;

/// <summary>Time since the last sign of progress (a training step, an evaluation batch, a commit); too long is a stall.</summary>
public sealed class Watchdog(RecoverySettings recovery)
{
    readonly Stopwatch _sinceProgress = new();

    public void Progress() => _sinceProgress.Restart();

    /// <summary>A sentence naming the stall, if something is <paramref name="expected"/> and nothing came for the stall timeout.</summary>
    public string? Stall(bool expected) => expected && _sinceProgress.Elapsed.TotalSeconds > recovery.StallTimeoutSeconds
        ? $"no training step and no evaluation batch for {_sinceProgress.Elapsed.TotalSeconds:F0} s (stall timeout {recovery.StallTimeoutSeconds:F0} s)"
        : null;
}
