using ActorTraining.Compute.Training;

namespace ActorTraining.Actors;

/// <summary>
/// How the phase supervisor recovers a run inside the process: at most <paramref name="MaxRestarts"/> restarts in a
/// row, the k-th after <paramref name="BackoffSeconds"/> × 2^(k−1) (at most <see cref="MaxBackoffSeconds"/>), and
/// no sign of progress for <paramref name="StallTimeoutSeconds"/> counts as a fault; the journal's database away for
/// longer than <paramref name="JournalOutageSeconds"/> fails the run.
/// </summary>
public sealed record RecoverySettings(int MaxRestarts, double BackoffSeconds, double StallTimeoutSeconds, double JournalOutageSeconds = 300)
{
    public const double MaxBackoffSeconds = 300;

    public static RecoverySettings Of(TrainingConfig training) =>
        new(training.MaxRestarts, training.RestartBackoffSeconds, training.StallTimeoutSeconds, training.JournalOutageTimeoutSeconds);

    public TimeSpan BackoffBefore(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(MaxBackoffSeconds, BackoffSeconds * Math.Pow(2, Math.Max(0, attempt - 1))));

    /// <summary>How often the watchdog looks: a quarter of the timeout, at most every 5 s.</summary>
    public TimeSpan WatchdogInterval => TimeSpan.FromSeconds(Math.Clamp(StallTimeoutSeconds / 4, 0.25, 5));

    public string Describe(Messages.TrainingRestarted r) =>
        $"restart {r.Attempt} of at most {MaxRestarts} in a row (generation {r.Generation}) in {BackoffBefore(r.Attempt).TotalSeconds:F1} s, from the last committed checkpoint";

    /// <summary>Why a run ended after its restarts: the last fault, and how many restarts came before it.</summary>
    public static string Describe(Messages.RestartBudgetSpent spent) => spent.Restarts == 0
        ? $"{spent.Component}: {spent.Cause} (training.max-restarts = 0: no restart)"
        : $"{spent.Component}: {spent.Cause} (after {spent.Restarts} restarts in a row from the last committed checkpoint)";
}
