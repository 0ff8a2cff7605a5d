using ActorTraining.Compute.Model;

namespace ActorTraining.Compute.Tests.Model;

public sealed class SsastMasksTests
{
    [Theory]
    [InlineData(512, 400)]  // the reference's 1024 frames × 128 mel in 16 × 16 patches
    [InlineData(256, 200)]  // a C = 2 phase: half the patches, half the masks
    [InlineData(128, 100)]
    [InlineData(8, 6)]      // far fewer than the reference's fixed 400, where it loops for ever
    [InlineData(3, 1)]
    public void TheCountScalesWithThePatchesAndLeavesRoomForTheSampler(int patches, int count)
    {
        Assert.Equal(count, SsastMasks.Count(patches, SsastMasks.ReferenceRatio));
        var masks = SsastMasks.Clusters(patches, Math.Max(1, patches / 8), count, new Random(1));
        Assert.Equal(count, masks.Distinct().Count());
        Assert.All(masks, m => Assert.InRange(m, 1, patches - 1));
        Assert.Equal(count, SsastMasks.Frames(patches, count, new Random(1)).Distinct().Count());
    }

    [Fact]
    public void ClustersAreNeighboursAndTheSameForTheSameGenerator()
    {
        const int rows = 8, columns = 64, patches = rows * columns, count = 100;
        var masks = SsastMasks.Clusters(patches, columns, count, new Random(7));
        Assert.Equal(masks, SsastMasks.Clusters(patches, columns, count, new Random(7)));
        Assert.NotEqual(masks, SsastMasks.Clusters(patches, columns, count, new Random(8)));
        // a masked patch's right or lower neighbour is masked far more often than the 100/512 a random choice gives
        var set = masks.ToHashSet();
        double neighbours = masks.Count(m => set.Contains(m + 1) || set.Contains(m + columns)) / (double)count;
        var random = SsastMasks.Frames(patches, count, new Random(7)).ToHashSet();
        double randomNeighbours = random.Count(m => random.Contains(m + 1) || random.Contains(m + columns)) / (double)count;
        Assert.True(neighbours > 0.6 && randomNeighbours < 0.5, $"clustered {neighbours:F2}, random {randomNeighbours:F2}");
    }

    [Fact]
    public void TooFewPatchesIsAnErrorNotALoop()
    {
        Assert.Throws<ArgumentException>(() => SsastMasks.Count(2, SsastMasks.ReferenceRatio));
        Assert.Throws<ArgumentOutOfRangeException>(() => SsastMasks.Clusters(8, 4, 7, new Random(1)));
    }
}
