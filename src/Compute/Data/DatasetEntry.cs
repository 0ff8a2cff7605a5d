namespace ActorTraining.Compute.Data;

/// <summary>One clip of a corpus: absolute path to its audio and its label ids (AudioSet mids or class names).</summary>
public sealed record DatasetEntry(string AudioPath, IReadOnlyList<string> Labels);
