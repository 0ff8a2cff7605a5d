using System.Collections;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// A corpus of WebDataset shards (<c>data.source = shards</c>): the shards in listed order with their sample counts,
/// and its fixed canonical partitions. As a list, entry i is the i-th sample in listed order, named
/// <c>&lt;shard url&gt;#&lt;ordinal&gt;</c>; its labels are known only when the corpus was read with labels (the
/// evaluation set, whose targets are needed up front) — a training sample's labels are read with its audio.
/// Counts come from the <see cref="ShardIndexFile"/> beside the shards, or from scanning them once through the cache
/// (kept in the run's index folder, so a resume does not scan again).
/// </summary>
public sealed class ShardCorpus : IReadOnlyList<DatasetEntry>, IDisposable
{
    readonly long[] _start;

    public IReadOnlyList<ShardInfo> Shards { get; }
    public PartitionInterleave Interleave { get; }
    public int WindowShards { get; }

    /// <summary>Every sample's labels in listed order (the evaluation set), or null.</summary>
    public CorpusIndex? Labels { get; }

    ShardCorpus(IReadOnlyList<ShardInfo> shards, int partitions, int windowShards, CorpusIndex? labels)
    {
        Shards = shards;
        Interleave = ShardOrder.Partition(shards, partitions);
        WindowShards = windowShards;
        Labels = labels;
        _start = new long[shards.Count + 1];
        for (int s = 0; s < shards.Count; s++) _start[s + 1] = _start[s] + shards[s].Samples;
        if (_start[^1] > int.MaxValue) throw new DatasetException(shards[0].Url, $"{_start[^1]} samples: more than 2^31 in one corpus");
    }

    public int Count => (int)_start[^1];

    /// <summary>The epoch order (<see cref="ShardOrder"/>).</summary>
    public ShardOrder Order(int seed, int epoch, bool shuffle) => new(Shards, Interleave, WindowShards, seed, epoch, shuffle);

    public DatasetEntry this[int index]
    {
        get
        {
            if (Labels is not null) return Labels[index];
            int s = Array.BinarySearch(_start, index);
            if (s < 0) s = ~s - 1;
            while (Shards[s].Samples == 0) s++;
            return new DatasetEntry($"{Shards[s].Url}#{index - _start[s]}", []);
        }
    }

    public IEnumerator<DatasetEntry> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The largest shard's bytes (what a cache slot must hold).</summary>
    public long LargestShardBytes => Shards.Count == 0 ? 0 : Shards.Max(s => s.Bytes);

    /// <summary>What the corpus is, for the run's identity: each shard's file name, samples and hash (or bytes), in order.</summary>
    public string Fingerprint()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var s in Shards) sha.AppendData(Encoding.UTF8.GetBytes($"{NameOf(s.Url)}\t{s.Samples}\t{s.Sha256 ?? s.Bytes.ToString()}\n"));
        if (Labels is not null)
            foreach (var e in Labels) sha.AppendData(Encoding.UTF8.GetBytes(string.Join(",", e.Labels) + "\n"));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Loads the corpus listed by <paramref name="patterns"/> (<paramref name="key"/> names the setting in errors).
    /// <paramref name="withLabels"/>: read every sample's labels now (through <paramref name="cache"/>), checked against
    /// <paramref name="labelSet"/>; a sample without usable labels is listed with none and skipped when read.
    /// </summary>
    public static ShardCorpus Load(IReadOnlyList<string> patterns, string key, ShardCache cache, string indexDirectory, int partitions,
        int windowShards, LabelSet labelSet, bool withLabels, Action<string> warn)
    {
        var urls = ShardUrls.Expand(patterns, key);
        Directory.CreateDirectory(indexDirectory);
        var listKey = Hash(string.Join("\n", urls));
        var known = Path.Combine(indexDirectory, $"shards-{listKey}.json");
        var shards = File.Exists(known) ? Read(known, urls) : null;
        if (shards is null)
        {
            shards = Described(urls, cache.Settings.SourceTimeout, warn) ?? Scanned(urls, cache, warn);
            new ShardIndexFile(ShardIndexFile.FormatName, shards.Select(s => new ShardIndexEntry(s.Url, s.Samples, s.Bytes, s.Sha256)).ToList()).Write(known);
        }
        if (shards.All(s => s.Samples == 0)) throw new DatasetException(key, $"none of its {shards.Count} shard(s) holds a sample (the lines above say why)");
        CorpusIndex? labels = withLabels ? LabelsOf(shards, cache, indexDirectory, labelSet, warn) : null;
        return new ShardCorpus(shards, partitions, windowShards, labels);
    }

    static IReadOnlyList<ShardInfo>? Read(string known, IReadOnlyList<string> urls)
    {
        var index = ShardIndexFile.Parse(File.ReadAllText(known), known);
        if (index.Shards.Count != urls.Count || index.Shards.Where((s, i) => s.Name != urls[i]).Any()) return null;
        return index.Shards.Select(s => new ShardInfo(s.Name, s.Samples, s.Bytes, s.Sha256)).ToList();
    }

    /// <summary>The shards as the index.json beside the first one lists them; null when there is none. A shard the
    /// index does not list makes the whole list scanned.</summary>
    static IReadOnlyList<ShardInfo>? Described(IReadOnlyList<string> urls, TimeSpan timeout, Action<string> warn)
    {
        var indexUrl = ShardUrls.Resolve(ShardIndexFile.FileName, ShardUrls.Parent(urls[0]));
        var json = Fetch(indexUrl, timeout);
        if (json is null) return null;
        var index = ShardIndexFile.Parse(json, indexUrl);
        var byName = index.Shards.ToDictionary(s => s.Name);
        var result = new List<ShardInfo>();
        foreach (var url in urls)
        {
            if (!byName.TryGetValue(NameOf(url), out var entry))
            {
                warn($"{indexUrl} does not list {NameOf(url)}: the shards are scanned instead");
                return null;
            }
            result.Add(new ShardInfo(url, entry.Samples, entry.Bytes, entry.Sha256));
        }
        return result;
    }

    static string? Fetch(string url, TimeSpan timeout)
    {
        var temp = Path.Combine(Path.GetTempPath(), $"actortraining-index-{Guid.NewGuid():N}.json");
        try
        {
            ShardDownload.FetchAsync(ShardSource.Of(url), temp, null, timeout, CancellationToken.None).GetAwaiter().GetResult();
            return File.ReadAllText(temp);
        }
        catch (ShardNotFoundException) { return null; }
        finally { File.Delete(temp); }
    }

    static IReadOnlyList<ShardInfo> Scanned(IReadOnlyList<string> urls, ShardCache cache, Action<string> warn)
    {
        var result = new List<ShardInfo>();
        foreach (var url in urls)
        {
            try
            {
                var local = cache.Open(new ShardInfo(url, 0, 0, null));
                if (local.Members.Problem is { } problem) warn($"{url}: {problem}; its {local.Members.Samples.Count} whole samples are used");
                result.Add(new ShardInfo(url, local.Members.Samples.Count, new FileInfo(local.Path).Length, null));
            }
            catch (ShardCorruptException e)
            {
                warn($"{e.Message}: the shard is left out");
                result.Add(new ShardInfo(url, 0, 0, null));
            }
        }
        return result;
    }

    static CorpusIndex LabelsOf(IReadOnlyList<ShardInfo> shards, ShardCache cache, string indexDirectory, LabelSet labelSet, Action<string> warn)
    {
        var path = Path.Combine(indexDirectory, $"shard-labels-{Hash(string.Join("\n", shards.Select(s => $"{s.Url}\t{s.Samples}\t{s.Sha256}")))}.corpusindex");
        if (File.Exists(path))
        {
            try { return CorpusIndex.Open(path); }
            catch (InvalidDataException) { }
        }
        using var writer = new CorpusIndexWriter(path, (0, 0));
        foreach (var shard in shards)
        {
            if (shard.Samples == 0) continue;
            LocalShard? local = null;
            try { local = cache.Open(shard); }
            catch (ShardSourceException e) when (e is ShardCorruptException) { warn($"{e.Message}: its {shard.Samples} samples are skipped"); }
            for (int i = 0; i < shard.Samples; i++)
            {
                IReadOnlyList<string> ids = [];
                if (local is not null && i < local.Members.Samples.Count)
                {
                    try { ids = ShardSample.LabelsOf(local.Path, shard.Url, local.Members.Samples[i], labelSet); }
                    catch (DatasetException e) { warn($"{e.Message}: skipped"); }
                }
                writer.Add($"{shard.Url}#{i}", ids);
            }
        }
        return writer.Complete();
    }

    static string NameOf(string url) => url[(url.LastIndexOfAny(['/', '\\']) + 1)..];

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    public void Dispose() => Labels?.Dispose();
}
