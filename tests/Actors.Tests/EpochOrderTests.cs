using ActorTraining.Actors;

namespace ActorTraining.Actors.Tests;

public sealed class EpochOrderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(40)]
    [InlineData(1000)]
    [InlineData(65_537)]
    public void EveryClipComesExactlyOnceAndTheOrderIsTheSameWhenRecomputed(int count)
    {
        var order = new EpochOrder(count, seed: 7, epoch: 3, shuffle: true);
        var again = new EpochOrder(count, seed: 7, epoch: 3, shuffle: true);
        var seen = new bool[count];
        for (int p = 0; p < count; p++)
        {
            int clip = order[p];
            Assert.InRange(clip, 0, count - 1);
            Assert.False(seen[clip], $"clip {clip} came twice");
            seen[clip] = true;
            Assert.Equal(clip, again[p]);
        }
    }

    [Fact]
    public void OrdersDifferBetweenEpochsAndSeedsAndLookShuffled()
    {
        const int count = 10_000;
        int[] Order(int seed, int epoch) { var o = new EpochOrder(count, seed, epoch, shuffle: true); return Enumerable.Range(0, count).Select(p => o[p]).ToArray(); }
        var a = Order(1, 0);
        var b = Order(1, 1);
        var c = Order(2, 0);
        // two independent random permutations agree in about one place
        Assert.InRange(a.Zip(b, (x, y) => x == y).Count(same => same), 0, 10);
        Assert.InRange(a.Zip(c, (x, y) => x == y).Count(same => same), 0, 10);
        Assert.InRange(a.Select((clip, p) => clip == p).Count(x => x), 0, 10);
        // no drift: the first half of the epoch draws evenly from the corpus 
        Assert.InRange(a.Take(count / 2).Average(), count / 2.0 - 300, count / 2.0 + 300);
        // neighbours in the epoch are not neighbours in the corpus
        Assert.InRange(a.Zip(a.Skip(1), (x, y) => Math.Abs(x - y) == 1).Count(adjacent => adjacent), 0, 10);
    }

    [Fact]
    public void UnshuffledIsTheListingOrder()
    {
        var order = new EpochOrder(5, seed: 7, epoch: 3, shuffle: false);
        Assert.Equal([0, 1, 2, 3, 4], Enumerable.Range(0, 5).Select(p => order[p]));
    }
}
