namespace ActorTraining.Compute.Distributed;

/// <summary>
/// How ranks split a step's global batch: step s trains on global positions [s·B, (s+1)·B) of the epoch's order, and
/// rank r of n takes a contiguous part of them, the first B mod n ranks one sample more. Each rank's loss is weighted
/// by its share of the batch (<see cref="Weight"/>), so the summed gradients are those of the full-batch mean —
/// whatever n is, the update is the same (up to summation order).
/// </summary>
public readonly record struct GlobalBatch(int Size, int Rank, int World)
{
    /// <summary>The rank's positions inside the batch: [Offset, Offset + Count).</summary>
    public (int Offset, int Count) Share()
    {
        int baseCount = Size / World, extra = Size % World;
        int count = baseCount + (Rank < extra ? 1 : 0);
        int offset = Rank * baseCount + Math.Min(Rank, extra);
        return (offset, count);
    }

    /// <summary>The factor on the rank's mean loss over <paramref name="count"/> samples of a batch of <paramref name="batchSize"/>.</summary>
    public static double Weight(int count, int batchSize) => (double)count / batchSize;
}
