namespace ActorTraining.Actors;

/// <summary>The run directory's journal belongs to a run with a different configuration.</summary>
public sealed class RunConfigMismatchException(string journalHash, string configHash) : Exception(
    $"this run directory was started with a different configuration (journal config hash {journalHash[..Math.Min(12, journalHash.Length)]}, " +
    $"given config hash {configHash[..Math.Min(12, configHash.Length)]}); use a new --run-dir, or the original configuration to resume")
{
    public string JournalHash { get; } = journalHash;
    public string ConfigHash { get; } = configHash;
}
