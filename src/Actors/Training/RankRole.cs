using ActorTraining.Compute.Distributed;

namespace ActorTraining.Actors;

/// <summary>
/// Which rank of how many a trainer session is, and its end of the gradient ring (none for a single rank). Rank 0
/// writes the checkpoints; every rank holds a full replica.
/// </summary>
public sealed record RankRole(int Rank, int World, RingAllReduce? Ring)
{
    public static readonly RankRole Single = new(0, 1, null);
}
