using Akka.Actor;
using Akka.Persistence;
using ActorTraining.Actors;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>A run as its journal records it, read without acting on it (for `status`, and for `train` before it loads any data).</summary>
public static class RecordedRun
{
    const int Attempts = 3;
    static readonly TimeSpan SayAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The state a <see cref="JournalReader"/> recovers. A journal that is slow is waited for — <see cref="Attempts"/>
    /// reads of <see cref="PersistenceConfig.RecoveryTimeout"/> each (which scales with its size), a line on stdout once
    /// it takes more than a few seconds — and then named as a timeout with the wait it got; one that cannot be read is a
    /// sentence with the journal's own error. The files' real faults (missing, not SQLite, locked, damaged) are named
    /// before, by <see cref="PersistenceConfig.CheckSqlite"/>.
    /// </summary>
    public static async Task<RunState> Read(ActorSystem system, string persistenceId, string runDirectory, string? postgres)
    {
        var journal = postgres is null ? Path.Combine(runDirectory, PersistenceConfig.JournalFile) : PersistenceConfig.Describe(postgres);
        var wait = PersistenceConfig.RecoveryTimeout(runDirectory, postgres);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool said = false;
        for (int attempt = 1; ; attempt++)
        {
            var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
            var reader = system.ActorOf(JournalReader.Props(persistenceId, failure));
            var stopped = reader.WatchAsync();
            var ask = reader.Ask<RunState>(GetRunState.Instance, wait + TimeSpan.FromSeconds(5)); // past the recovery's own timeout
            while (!ask.IsCompleted && !stopped.IsCompleted)
                if (await Task.WhenAny(ask, stopped, Task.Delay(SayAfter)) is var done && done != ask && done != stopped && !said && clock.Elapsed > SayAfter)
                {
                    Console.WriteLine($"waiting for the run journal {journal}: no answer after {clock.Elapsed.TotalSeconds:F0} s, waiting up to {Attempts} × {wait.TotalSeconds:F0} s");
                    said = true;
                }
            system.Stop(reader);
            if (ask.IsCompletedSuccessfully) return ask.Result;
            var cause = failure.Task.IsCompleted ? failure.Task.Result : null;
            bool timedOut = cause is null or RecoveryTimedOutException;
            if (timedOut && attempt < Attempts)
            {
                Console.WriteLine($"the run journal {journal} did not answer within {wait.TotalSeconds:F0} s; reading it again ({attempt + 1} of {Attempts})");
                continue;
            }
            throw new JournalUnavailableException(timedOut
                ? $"{journal}: the run journal did not answer within {clock.Elapsed.TotalSeconds:F0} s ({Attempts} reads of up to {wait.TotalSeconds:F0} s each); it is slow or unreachable — nothing was changed"
                : $"{journal}: the run journal could not be read ({cause!.GetType().Name}: {cause.Message.Split('\n')[0]}); nothing was changed", cause ?? new TimeoutException());
        }
    }

    /// <summary>
    /// Refuses a run directory started with another configuration before any data is generated, indexed or read: the
    /// supervisor would refuse it too, but only after the corpus was loaded (minutes for a large one) and, for the
    /// synthetic corpus, written into the run directory.
    /// </summary>
    /// <returns>The configuration to run: <paramref name="experiment"/> as the run started it (<see cref="ExperimentConfig.AsStarted"/>).</returns>
    public static async Task<ExperimentConfig> RefuseOtherConfiguration(ActorSystem system, string runId, string runDirectory, string? postgres, ExperimentConfig experiment)
    {
        var state = await Read(system, PhaseSupervisor.IdOf(runId, 0), runDirectory, postgres);
        if (state.ConfigHash is not { } recorded) return experiment;
        var started = experiment.AsStarted(RunFingerprint.Parse(recorded).Config);
        if (RunFingerprint.Parse(recorded).Config != started.Hash()) throw new RunConfigMismatchException(recorded, started.Hash());
        if (started != experiment) Console.WriteLine("this run started with a float32 feature cache (the default then) and keeps it");
        return started;
    }
}
