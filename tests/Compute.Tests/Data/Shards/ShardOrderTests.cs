using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Distributed;

namespace ActorTraining.Compute.Tests.Data.Shards;

public sealed class ShardOrderTests
{
    // uneven shards, one empty, a corpus whose shard count is not a multiple of the partitions
    static readonly IReadOnlyList<ShardInfo> Shards = new[] { 7, 9, 3, 0, 12, 5, 8, 8, 1, 11, 6 }
        .Select((n, i) => new ShardInfo($"s{i}.tar", n, n * 1000, null)).ToList();

    static int Total => Shards.Sum(s => s.Samples);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 2)]
    [InlineData(3, 1)]
    [InlineData(64, 3)]
    public void AnEpochVisitsEverySampleOnce(int partitions, int window)
    {
        var order = new ShardOrder(Shards, ShardOrder.Partition(Shards, partitions), window, seed: 5, epoch: 2, shuffle: true);
        Assert.Equal(Total, order.Count);
        var seen = Enumerable.Range(0, Total).Select(p => order[p]).ToList();
        Assert.Equal(Total, seen.Distinct().Count());
        Assert.All(seen, r => Assert.InRange(r.Ordinal, 0, Shards[r.Shard].Samples - 1));
    }

    [Fact]
    public void TheOrderIsAFunctionOfSeedEpochAndPartitionsOnly()
    {
        ShardSampleRef[] Of(int seed, int epoch, int partitions) =>
            Enumerable.Range(0, Total).Select(p => new ShardOrder(Shards, ShardOrder.Partition(Shards, partitions), 2, seed, epoch, true)[p]).ToArray();
        Assert.Equal(Of(5, 1, 4), Of(5, 1, 4));
        Assert.NotEqual(Of(5, 1, 4), Of(6, 1, 4));
        Assert.NotEqual(Of(5, 1, 4), Of(5, 2, 4));
        Assert.NotEqual(Of(5, 1, 4), Of(5, 1, 3));
    }

    [Fact]
    public void APartitionsSamplesComeWindowByWindow()
    {
        const int partitions = 3, window = 2;
        var interleave = ShardOrder.Partition(Shards, partitions);
        var order = new ShardOrder(Shards, interleave, window, seed: 1, epoch: 0, shuffle: true);
        for (int q = 0; q < partitions; q++)
        {
            var shards = Enumerable.Range(0, Total).Where(p => interleave.PartitionOf(p) == q).Select(p => order[p].Shard).ToList();
            Assert.All(shards, s => Assert.Equal(q, s % partitions));
            // the sequence of windows: once a window's shards are done, none of them comes back
            var windows = new List<HashSet<int>>();
            foreach (var s in shards)
            {
                if (windows.Count > 0 && windows[^1].Contains(s)) continue;
                if (windows.Count > 0 && windows[^1].Count < window && !windows.Take(windows.Count - 1).Any(w => w.Contains(s))) { windows[^1].Add(s); continue; }
                Assert.DoesNotContain(windows, w => w.Contains(s));
                windows.Add([s]);
            }
        }
    }

    [Fact]
    public void UnshuffledIsTheListedOrder()
    {
        var order = new ShardOrder(Shards, ShardOrder.Partition(Shards, 4), 2, 0, 0, shuffle: false);
        var listed = Shards.SelectMany((s, i) => Enumerable.Range(0, s.Samples).Select(o => new ShardSampleRef(i, o))).ToList();
        Assert.Equal(listed, Enumerable.Range(0, Total).Select(p => order[p]));
    }

    [Fact]
    public void InterleavingTakesTurnsUntilAPartitionRunsOut()
    {
        var interleave = new PartitionInterleave([2, 0, 3, 1]);
        Assert.Equal(6, interleave.Count);
        Assert.Equal(new[] { (0, 0L), (2, 0L), (3, 0L), (0, 1L), (2, 1L), (2, 2L) }, Enumerable.Range(0, 6).Select(p => interleave.Locate(p)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void PartitionedSharesSplitEveryBatchWithoutOverlapAndReadOnlyTheirPartitions(int world)
    {
        var interleave = ShardOrder.Partition(Shards, 4);
        const int batch = 7;
        var shares = Enumerable.Range(0, world).Select(r => DataShare.Partitioned(batch, r, world, interleave).Of(14, Total)).ToList();
        var read = new List<long>();
        for (int r = 0; r < world; r++)
        {
            var share = shares[r];
            for (long p = share.NextFrom(share.Origin); p < Total; p = share.NextFrom(p + 1))
            {
                Assert.Equal(r, interleave.PartitionOf(p) % world);
                read.Add(p);
            }
        }
        Assert.Equal(Enumerable.Range(14, Total - 14).Select(p => (long)p), read.Order());
        Assert.Equal(shares[0].Batches, (Total - 14 + batch - 1) / batch);
    }

    [Fact]
    public void BraceRangesExpandAsWebDatasetDoes()
    {
        Assert.Equal(["a-008.tar", "a-009.tar", "a-010.tar"], ShardUrls.Expand(["a-{008..010}.tar"], "k"));
        Assert.Equal(["s3://b/x-0.tar", "s3://b/x-1.tar", "s3://b/y-0.tar", "s3://b/y-1.tar"], ShardUrls.Expand(["s3://b/{x,y}-{0..1}.tar"], "k"));
        var none = Assert.Throws<ActorTraining.Compute.Data.DatasetException>(() => ShardUrls.Expand(["a-{5..3}.tar"], "data.train-shards"));
        Assert.Equal("data.train-shards: 'a-{5..3}.tar' expands to no shard", none.Message);
    }
}
