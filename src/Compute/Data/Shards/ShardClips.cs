using ActorTraining.Compute.Features;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// A pipeline worker's access to a shard corpus's samples: the shard from the node's <see cref="ShardCache"/>, the
/// sample's members, its audio put in a file of the worker's own (our decoders read files; one small write per clip,
/// in memory where /dev/shm exists) and the identity its fbank is cached under (shard name, key, shard hash or size).
/// One per worker; not thread-safe. Dispose removes the worker's file.
/// </summary>
public sealed class ShardClips(ShardCorpus corpus, ShardCache cache, LabelSet labels) : IDisposable
{
    static readonly string Scratch = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
    readonly string _file = Path.Combine(Scratch, $"actortraining-clip-{Environment.ProcessId}-{Guid.NewGuid():N}");
    string? _written;

    /// <summary>The sample, read (labels checked). A bad sample is a <see cref="DatasetException"/>, an unusable shard a
    /// <see cref="ShardSourceException"/>, both naming the shard and sample.</summary>
    public ShardSample Read(ShardSampleRef sample)
    {
        var shard = corpus.Shards[sample.Shard];
        var local = cache.Open(shard);
        if (sample.Ordinal >= local.Members.Samples.Count)
            throw new DatasetException($"{shard.Url}: sample {sample.Ordinal}", $"the shard holds {local.Members.Samples.Count} whole samples, its index {shard.Samples}{(local.Members.Problem is { } p ? $" ({p})" : "")}");
        return ShardSample.Read(local.Path, shard.Url, local.Members.Samples[sample.Ordinal], labels);
    }

    /// <summary>The sample's multi-hot target.</summary>
    public float[] Target(ShardSample sample)
    {
        var target = new float[labels.Count];
        foreach (var id in sample.Labels) target[labels.IndexOf(id)] = 1f;
        return target;
    }

    /// <summary>A file holding the sample's audio, valid until the next call.</summary>
    public string AudioFile(ShardSample sample)
    {
        _written = $"{_file}.{sample.AudioExtension}";
        File.WriteAllBytes(_written, sample.Audio);
        return _written;
    }

    /// <summary>What the sample's fbank is cached under: a name, a stamp that changes when the shard does, and its shard (whose samples share packs).</summary>
    public (string Name, SourceStamp Stamp, string Group) CacheIdentity(ShardSampleRef sample, ShardSample read)
    {
        var shard = corpus.Shards[sample.Shard];
        long tag = shard.Sha256 is { } sha ? Convert.ToInt64(sha[..15], 16) : shard.Bytes;
        return ($"{shard.Url}#{read.Key}", new SourceStamp(read.Audio.Length, tag), shard.Url);
    }

    public void Dispose()
    {
        foreach (var ext in ShardSample.AudioExtensions) File.Delete($"{_file}.{ext}");
    }
}
