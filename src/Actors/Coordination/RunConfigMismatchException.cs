namespace ActorTraining.Actors;

/// <summary>The run directory's journal belongs to a run with a different configuration or different data.</summary>
public sealed class RunConfigMismatchException(string journalHash, string configHash) : Exception(Explain(
    RunFingerprint.Parse(journalHash), RunFingerprint.Parse(configHash)))
{
    public string JournalHash { get; } = journalHash;
    public string ConfigHash { get; } = configHash;

    static string Explain(RunFingerprint journal, RunFingerprint given) =>
        journal.Config == given.Config && journal.Data is not null
            ? "this run directory was started with different data: a datafile or the label list was edited since (entries " +
              "added, removed, relabelled or reordered would move the saved data position onto other clips); restore the data, " +
              "or use a new --run-dir (moving the corpus with its relative paths is fine)"
            : $"this run directory was started with a different configuration (journal config hash {journal.Short}, " +
              $"given config hash {given.Short}); use a new --run-dir, or the original configuration to resume";
}
