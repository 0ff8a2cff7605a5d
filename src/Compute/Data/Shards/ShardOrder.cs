using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>A sample of a shard corpus: shard <paramref name="Shard"/> (its place in the corpus list), its <paramref name="Ordinal"/>-th sample.</summary>
public readonly record struct ShardSampleRef(int Shard, int Ordinal);

/// <summary>
/// Which sample an epoch visits at each position, a function of (seed, epoch) and the corpus's canonical partitions
/// only — never of the node or rank count, so a run resumed with other ranks continues the same order.
/// Shard s belongs to partition s mod C. Each epoch, a partition's shards are shuffled (seeded by seed, epoch,
/// partition), cut into windows of <c>window</c> consecutive shards, and the samples of a window are shuffled among
/// themselves by a keyed bijection (MosaicML's block shuffle): a reader holds a window's few shards, never a sample
/// buffer a resume would lose. Positions take turns between partitions (<see cref="PartitionInterleave"/>). Without
/// shuffling (evaluation) the order is the listed one: shard by shard, sample by sample.
/// Memory: O(shards) per epoch (about 24 bytes a shard), whatever the sample count.
/// </summary>
public sealed class ShardOrder
{
    readonly IReadOnlyList<ShardInfo> _shards;
    readonly bool _shuffle;
    readonly int _seed, _epoch;
    readonly long[] _listedStart;             // unshuffled: the first position of each shard
    readonly int[][] _partitionShards = [];   // this epoch's shard order in each partition
    readonly long[][] _windowStart = [];      // per partition: first partition index of each window (+ the end)
    readonly int _window;

    public ShardOrder(IReadOnlyList<ShardInfo> shards, PartitionInterleave interleave, int windowShards, int seed, int epoch, bool shuffle)
    {
        _shards = shards;
        Interleave = interleave;
        (_seed, _epoch, _shuffle, _window) = (seed, epoch, shuffle, Math.Max(1, windowShards));
        _listedStart = new long[shards.Count + 1];
        for (int s = 0; s < shards.Count; s++) _listedStart[s + 1] = _listedStart[s] + shards[s].Samples;
        if (!shuffle) return;
        int c = interleave.Partitions;
        _partitionShards = new int[c][];
        _windowStart = new long[c][];
        for (int q = 0; q < c; q++)
        {
            var members = Enumerable.Range(0, shards.Count).Where(s => s % c == q).ToArray();
            var rng = new Random(SampleSeed.For(seed, epoch, q, stream: 21));
            rng.Shuffle(members);
            _partitionShards[q] = members;
            int windows = (members.Length + _window - 1) / _window;
            var starts = new long[windows + 1];
            for (int w = 0; w < windows; w++)
            {
                long size = 0;
                for (int i = w * _window; i < Math.Min(members.Length, (w + 1) * _window); i++) size += shards[members[i]].Samples;
                starts[w + 1] = starts[w] + size;
            }
            _windowStart[q] = starts;
        }
    }

    /// <summary>The fixed partitions of a corpus of <paramref name="shards"/>: shard s in partition s mod <paramref name="partitions"/>.</summary>
    public static PartitionInterleave Partition(IReadOnlyList<ShardInfo> shards, int partitions)
    {
        var sizes = new long[Math.Max(1, Math.Min(partitions, shards.Count))];
        for (int s = 0; s < shards.Count; s++) sizes[s % sizes.Length] += shards[s].Samples;
        return new PartitionInterleave(sizes);
    }

    public PartitionInterleave Interleave { get; }

    public long Count => _listedStart[^1];

    /// <summary>The sample at <paramref name="position"/>.</summary>
    public ShardSampleRef this[long position]
    {
        get
        {
            if (!_shuffle)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(position);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Count);
                int s = Array.BinarySearch(_listedStart, position);
                if (s < 0) s = ~s - 1;
                while (_shards[s].Samples == 0) s++;
                return new ShardSampleRef(s, (int)(position - _listedStart[s]));
            }
            var (q, index) = Interleave.Locate(position);
            var (window, inWindow) = WindowOf(q, index);
            return InWindow(q, window, Permuted(q, window, inWindow));
        }
    }

    /// <summary>The shards of the window position <paramref name="position"/> reads from (what a reader holds to read it).</summary>
    public IEnumerable<int> WindowShards(long position)
    {
        if (!_shuffle) { yield return this[position].Shard; yield break; }
        var (q, index) = Interleave.Locate(position);
        var (window, _) = WindowOf(q, index);
        foreach (var s in WindowMembers(q, window)) yield return s;
    }

    /// <summary>The shards of the window after the one <paramref name="position"/> reads from, in its partition (empty at the end): what to prefetch.</summary>
    public IEnumerable<int> NextWindowShards(long position)
    {
        if (!_shuffle) yield break;
        var (q, index) = Interleave.Locate(position);
        var (window, _) = WindowOf(q, index);
        foreach (var s in WindowMembers(q, window + 1)) yield return s;
    }

    /// <summary>A sample drawn by <paramref name="rng"/> from the window of <paramref name="position"/> (a mixup partner a reader already holds).</summary>
    public ShardSampleRef PartnerOf(long position, Random rng)
    {
        if (!_shuffle) return this[rng.NextInt64(Count)];
        var (q, index) = Interleave.Locate(position);
        var (window, _) = WindowOf(q, index);
        var starts = _windowStart[q];
        return InWindow(q, window, rng.NextInt64(starts[window + 1] - starts[window]));
    }

    (int Window, long InWindow) WindowOf(int q, long index)
    {
        var starts = _windowStart[q];
        int w = Array.BinarySearch(starts, index);
        if (w < 0) w = ~w - 1;
        while (starts[w + 1] == starts[w]) w++; // empty shards make empty windows
        return (w, index - starts[w]);
    }

    IEnumerable<int> WindowMembers(int q, int window)
    {
        var members = _partitionShards[q];
        for (int i = window * _window; i < Math.Min(members.Length, (window + 1) * _window); i++) yield return members[i];
    }

    long Permuted(int q, int window, long inWindow)
    {
        var starts = _windowStart[q];
        int size = checked((int)(starts[window + 1] - starts[window]));
        var order = new EpochOrder(size, SampleSeed.For(_seed, q, window, stream: 22), _epoch, shuffle: true);
        return order[inWindow];
    }

    ShardSampleRef InWindow(int q, int window, long index)
    {
        foreach (var s in WindowMembers(q, window))
        {
            if (index < _shards[s].Samples) return new ShardSampleRef(s, (int)index);
            index -= _shards[s].Samples;
        }
        throw new InvalidOperationException("a window index past its shards");
    }
}
