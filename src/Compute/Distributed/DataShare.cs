using ActorTraining.Compute.Data.Shards;

namespace ActorTraining.Compute.Distributed;

/// <summary>How a pipeline's share of the epoch is cut out of the global batches.</summary>
public enum DataShareKind
{
    /// <summary>Training: rank r of n reads its contiguous part of every global batch (<see cref="GlobalBatch"/>), so
    /// every rank takes part in every step, with an empty part when a batch has fewer samples than ranks.</summary>
    Slice,

    /// <summary>Evaluation: shard s of n reads whole batches k ≡ s (mod n), each exactly as one evaluator alone would
    /// form it, so the scores — and the metric — do not depend on how many shards there are.</summary>
    Stripe,

    /// <summary>Training on a shard corpus: rank r of n reads the positions of every global batch that fall in the
    /// canonical partitions q ≡ r (mod n), so a node reads (and downloads) only its partitions' shards. Every rank takes
    /// part in every step; how many rows each gets varies a little from batch to batch, and the loss weights follow.</summary>
    Partitioned,
}

/// <summary>
/// Which positions of an epoch's order one pipeline reads — the positions of a rank's share, nothing else is decoded.
/// An epoch is cut into global batches of <see cref="BatchSize"/> positions counted from the position the pipeline
/// starts the epoch at (0, or a checkpoint's data position, which is a batch boundary): batch k covers
/// [origin + k·B, origin + (k+1)·B), the last one cut short at the epoch's end. A clip that cannot be read leaves a
/// hole in its batch rather than pulling in the next position, so a batch's positions never depend on what could be
/// decoded elsewhere — which is what lets each rank read only its own.
/// </summary>
public readonly record struct DataShare(int BatchSize, int Rank, int World, DataShareKind Kind, PartitionInterleave? Partitions = null)
{
    /// <summary>The whole epoch, for one pipeline alone.</summary>
    public static DataShare Whole(int batchSize) => new(batchSize, 0, 1, DataShareKind.Slice);

    public static DataShare Slice(int batchSize, int rank, int world) => Checked(new(batchSize, rank, world, DataShareKind.Slice));

    public static DataShare Stripe(int batchSize, int shard, int shards) => Checked(new(batchSize, shard, shards, DataShareKind.Stripe));

    public static DataShare Partitioned(int batchSize, int rank, int world, PartitionInterleave partitions) =>
        Checked(new(batchSize, rank, world, DataShareKind.Partitioned, partitions));

    /// <summary>Whether this share reads <paramref name="partition"/> (a partitioned share; every other share reads all).</summary>
    public bool Owns(int partition) => Kind != DataShareKind.Partitioned || partition % World == Rank;

    /// <summary>The canonical partitions this share reads.</summary>
    public int OwnedPartitions => Partitions is null ? 0 : Enumerable.Range(0, Partitions.Partitions).Count(Owns);

    static DataShare Checked(DataShare s)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(s.BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(s.World, 1, nameof(World));
        if (s.Rank < 0 || s.Rank >= s.World) throw new ArgumentOutOfRangeException(nameof(Rank), s.Rank, $"not a rank of {s.World}");
        return s;
    }

    /// <summary>A training share hands its consumer a (possibly empty) batch for every global batch: every rank takes
    /// part in every step. An evaluation stripe hands over only its own batches.</summary>
    public bool EveryBatch => Kind != DataShareKind.Stripe;

    /// <summary>The most positions this share reads of one batch.</summary>
    public int MostPerBatch => Kind == DataShareKind.Slice ? (BatchSize + World - 1) / World : BatchSize;

    /// <summary>Whether a partitioned share reads <paramref name="position"/> (every other share reads all of its ranges).</summary>
    public bool ReadsAt(long position) => Kind != DataShareKind.Partitioned || Partitions!.PartitionOf(position) % World == Rank;

    /// <summary>This share of an epoch of <paramref name="total"/> positions that starts at <paramref name="origin"/>.</summary>
    public EpochShare Of(long origin, long total) => new(this, origin, total);
}

/// <summary>A <see cref="DataShare"/> laid over one epoch: its batches and the positions it reads in each.</summary>
public readonly record struct EpochShare(DataShare Share, long Origin, long Total)
{
    int B => Share.BatchSize;

    /// <summary>Batches from the origin to the epoch's end.</summary>
    public long Batches => Total <= Origin ? 0 : (Total - Origin + B - 1) / B;

    /// <summary>The batch a position at or after the origin belongs to.</summary>
    public long BatchOf(long position) => (position - Origin) / B;

    /// <summary>The epoch position after batch <paramref name="batch"/>: what a checkpoint taken after it records.</summary>
    public long EndOf(long batch) => Math.Min(Total, Origin + (batch + 1) * B);

    /// <summary>The positions of batch <paramref name="batch"/> this share reads: [Start, End), empty when none.</summary>
    public (long Start, long End) Range(long batch)
    {
        long start = Origin + batch * B, end = EndOf(batch);
        if (Share.Kind == DataShareKind.Stripe)
            return batch % Share.World == Share.Rank ? (start, end) : (start, start);
        if (Share.Kind == DataShareKind.Partitioned)
        {
            long first = start, last = end - 1;
            while (first < end && !Share.ReadsAt(first)) first++;
            if (first == end) return (start, start);
            while (!Share.ReadsAt(last)) last--;
            return (first, last + 1);
        }
        var (offset, count) = new GlobalBatch((int)(end - start), Share.Rank, Share.World).Share();
        return (start + offset, start + offset + count);
    }

    /// <summary>The first position at or after <paramref name="position"/> that this share reads, or <see cref="Total"/>.</summary>
    public long NextFrom(long position)
    {
        if (position < Origin) position = Origin;
        for (long k = BatchOf(position); k < Batches; k++)
        {
            var (start, end) = Range(k);
            if (position < start) position = start;
            while (position < end && !Share.ReadsAt(position)) position++;
            if (position < end) return position;
        }
        return Total;
    }
}
