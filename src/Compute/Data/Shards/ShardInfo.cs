namespace ActorTraining.Compute.Data.Shards;

/// <summary>One shard of a corpus: where it is, how many samples and bytes it holds, and its SHA-256 when an index gives it.</summary>
public sealed record ShardInfo(string Url, int Samples, long Bytes, string? Sha256);
