namespace ActorTraining.Compute.Reporting;

/// <summary>
/// What a run noticed about individual clips, for its summary: files (or shard samples) skipped as unreadable and clips shorter than
/// one analysis window that were zero-padded to one. Written by the run's monitor, read once the run has ended.
/// </summary>
public sealed class ClipNotes
{
    public SortedSet<string> Skipped { get; } = new(StringComparer.Ordinal);
    public SortedSet<string> Padded { get; } = new(StringComparer.Ordinal);

    /// <summary>Shards that could not be used at all (their samples are in <see cref="Skipped"/>).</summary>
    public SortedSet<string> SkippedShards { get; } = new(StringComparer.Ordinal);
}
