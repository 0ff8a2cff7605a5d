namespace ActorTraining.Compute.Training;

/// <summary>
/// A corpus as WebDataset shards (<c>data.source = shards</c>): <paramref name="TrainShards"/> / <paramref name="EvalShards"/>
/// list shard URLs (local paths, http(s)://, s3://) with brace ranges. <paramref name="Partitions"/>: the canonical
/// partitions the order is defined over (never the node count); <paramref name="WindowShards"/>: how many shards of a
/// partition one shuffle window mixes. The node's shard cache: <paramref name="CacheDirectory"/> (null = the node's
/// temporary folder), <paramref name="CacheMaxGigabytes"/>, and how long a source may stay away
/// (<paramref name="SourceTimeoutSeconds"/>) before the run stops. Only the partitions and the window change results.
/// </summary>
public sealed record ShardsConfig(IReadOnlyList<string> TrainShards, IReadOnlyList<string> EvalShards, int Partitions, int WindowShards,
    string? CacheDirectory, double CacheMaxGigabytes, double SourceTimeoutSeconds)
{
    public string ResolvedCacheDirectory => CacheDirectory ?? Path.Combine(Path.GetTempPath(), "actortraining-shard-cache");
}
