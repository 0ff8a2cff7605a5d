namespace ActorTraining.Compute.Data;

/// <summary>One clip of a corpus: absolute path to its audio and its label ids (AudioSet mids or class names).
/// <paramref name="StartSeconds"/>: where in the file the clip begins (a window of a longer recording; 0 for a corpus clip).</summary>
public sealed record DatasetEntry(string AudioPath, IReadOnlyList<string> Labels, double StartSeconds = 0);
