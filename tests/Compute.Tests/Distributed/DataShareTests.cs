using ActorTraining.Compute.Distributed;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>
/// A rank's share of an epoch: the training slices of every global batch are disjoint, in order, and together exactly
/// the batch; evaluation stripes are whole batches, each in exactly one stripe; walking a share with NextFrom visits
/// exactly its positions.
/// </summary>
public sealed class DataShareTests
{
    public static TheoryData<long, int, int, long> Cases => new()
    {
        { 24, 5, 3, 0 }, { 24, 4, 2, 0 }, { 24, 5, 5, 0 }, { 24, 5, 7, 0 }, { 1, 8, 3, 0 }, { 100, 10, 3, 30 }, { 101, 10, 4, 37 }, { 0, 4, 2, 0 },
    };

    static List<long> Walk(EpochShare share)
    {
        var positions = new List<long>();
        for (long p = share.NextFrom(share.Origin); p < share.Total; p = share.NextFrom(p + 1)) positions.Add(p);
        return positions;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrainingSlicesAreDisjointInOrderAndTogetherEachBatch(long total, int batch, int world, long origin)
    {
        var shares = Enumerable.Range(0, world).Select(r => DataShare.Slice(batch, r, world).Of(origin, total)).ToList();
        Assert.All(shares, s => Assert.Equal((total - origin + batch - 1) / batch, s.Batches));
        for (long k = 0; k < shares[0].Batches; k++)
        {
            long start = origin + k * batch, end = Math.Min(total, start + batch);
            var covered = shares.SelectMany(s => { var (a, b) = s.Range(k); return Enumerable.Range((int)a, (int)(b - a)).Select(x => (long)x); }).ToList();
            Assert.Equal(Enumerable.Range((int)start, (int)(end - start)).Select(x => (long)x), covered); // disjoint, in rank order, complete
            Assert.All(shares, s => Assert.Equal(end, s.EndOf(k)));
        }
        var walked = shares.SelectMany(Walk).Order().ToList();
        Assert.Equal(Enumerable.Range((int)origin, (int)Math.Max(0, total - origin)).Select(x => (long)x), walked);
        Assert.All(shares, s => Assert.True(Walk(s).Count <= s.Batches * s.Share.MostPerBatch));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EvaluationStripesAreWholeBatchesEachInOneStripe(long total, int batch, int shards, long origin)
    {
        var stripes = Enumerable.Range(0, shards).Select(s => DataShare.Stripe(batch, s, shards).Of(origin, total)).ToList();
        for (long k = 0; k < stripes[0].Batches; k++)
        {
            var holders = stripes.Where(s => s.Range(k).End > s.Range(k).Start).ToList();
            var holder = Assert.Single(holders);
            Assert.Equal((origin + k * batch, Math.Min(total, origin + (k + 1) * batch)), holder.Range(k));
            Assert.Equal((int)(k % shards), holder.Share.Rank);
        }
        Assert.Equal(Enumerable.Range((int)origin, (int)Math.Max(0, total - origin)).Select(x => (long)x), stripes.SelectMany(Walk).Order());
        Assert.False(stripes[0].Share.EveryBatch);
        Assert.True(DataShare.Slice(batch, 0, 1).EveryBatch);
    }

    [Fact]
    public void ARankOutsideTheWorldIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DataShare.Slice(4, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataShare.Stripe(0, 0, 1));
    }
}
