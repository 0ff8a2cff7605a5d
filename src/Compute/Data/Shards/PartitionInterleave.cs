namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// How an epoch's positions take turns between the canonical partitions: round-robin in partition order, a partition
/// leaving the turn once it has given all its samples (so uneven partitions never leave a hole or a wait). Position p
/// is the <see cref="Locate"/>d (partition, rank within it); the map depends only on the partitions' sizes, which are
/// fixed for a corpus, so it is the same in every epoch and at every node count. Cost: O(log) per position, memory
/// O(partitions²) at most.
/// </summary>
public sealed class PartitionInterleave
{
    readonly long[] _sizes;
    readonly long[] _roundStart;     // segment k: rounds [_roundStart[k], _roundStart[k+1])
    readonly long[] _positionStart;  // the first position of segment k
    readonly int[][] _active;        // the partitions still giving in segment k, in partition order

    public PartitionInterleave(IReadOnlyList<long> sizes)
    {
        _sizes = sizes.ToArray();
        var bounds = _sizes.Where(s => s > 0).Distinct().Order().ToArray();
        _roundStart = new long[bounds.Length + 1];
        _positionStart = new long[bounds.Length + 1];
        _active = new int[bounds.Length][];
        long rounds = 0, positions = 0;
        for (int k = 0; k < bounds.Length; k++)
        {
            _active[k] = Enumerable.Range(0, _sizes.Length).Where(q => _sizes[q] >= bounds[k]).ToArray();
            _roundStart[k] = rounds;
            _positionStart[k] = positions;
            positions += (bounds[k] - rounds) * _active[k].Length;
            rounds = bounds[k];
        }
        _roundStart[^1] = rounds;
        _positionStart[^1] = positions;
        Count = positions;
    }

    /// <summary>Positions in an epoch: the sum of the partitions' sizes.</summary>
    public long Count { get; }

    public int Partitions => _sizes.Length;

    public long SizeOf(int partition) => _sizes[partition];

    /// <summary>The partition position <paramref name="position"/> draws from, and how many of that partition's samples come before it.</summary>
    public (int Partition, long Index) Locate(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Count);
        int k = Array.BinarySearch(_positionStart, 0, _active.Length, position);
        if (k < 0) k = ~k - 1;
        var active = _active[k];
        long offset = position - _positionStart[k];
        return (active[offset % active.Length], _roundStart[k] + offset / active.Length);
    }

    /// <summary>The partition of <paramref name="position"/>.</summary>
    public int PartitionOf(long position) => Locate(position).Partition;
}
