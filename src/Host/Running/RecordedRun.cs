using Akka.Actor;
using ActorTraining.Actors;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>A run as its journal records it, read without acting on it (for `status`, and for `train` before it loads any data).</summary>
public static class RecordedRun
{
    // A cold read creates the schema and JITs the SQL layer first: under 2 s from process start on an idle machine, 15–36 s under the
    // soak's forced collections (RecoveryTests' reference run), where 30 s failed 3 runs in 4. A database that hangs is
    // still named within a minute; one that is down fails at once (the reader stops).
    static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The state a <see cref="JournalReader"/> recovers. A journal that went away or cannot be read stops the reader
    /// (recovery failed) or leaves it silent: either is a sentence naming the journal, not an ask timeout.
    /// </summary>
    public static async Task<RunState> Read(ActorSystem system, string persistenceId, string runDirectory, string? postgres)
    {
        var journal = postgres is null ? Path.Combine(runDirectory, PersistenceConfig.JournalFile) : PersistenceConfig.Describe(postgres);
        var reader = system.ActorOf(JournalReader.Props(persistenceId));
        var stopped = reader.WatchAsync();
        var ask = reader.Ask<RunState>(GetRunState.Instance, ReadTimeout);
        await Task.WhenAny(ask, stopped);
        system.Stop(reader);
        if (ask.IsCompletedSuccessfully) return ask.Result;
        throw new JournalUnavailableException(stopped.IsCompleted
            ? $"{journal}: the run journal could not be read (the database is gone, locked or damaged); nothing was changed"
            : $"{journal}: the run journal did not answer within {ReadTimeout.TotalSeconds:F0} s; nothing was changed", (Exception?)ask.Exception ?? new TimeoutException());
    }

    /// <summary>
    /// Refuses a run directory started with another configuration before any data is generated, indexed or read: the
    /// supervisor would refuse it too, but only after the corpus was loaded (minutes for a large one) and, for the
    /// synthetic corpus, written into the run directory.
    /// </summary>
    public static async Task RefuseOtherConfiguration(ActorSystem system, string runId, string runDirectory, string? postgres, string configHash)
    {
        var state = await Read(system, PhaseSupervisor.IdOf(runId, 0), runDirectory, postgres);
        if (state.ConfigHash is { } recorded && RunFingerprint.Parse(recorded).Config != configHash)
            throw new RunConfigMismatchException(recorded, configHash);
    }
}
