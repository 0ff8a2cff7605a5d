using ActorTraining.Actors;
using ActorTraining.Compute.Data;

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

    [Fact]
    public void TheBalancedSamplerDrawsInProportionToTheWeightsTheSameOnEveryRecomputation()
    {
        // 900 clips of a common label and 100 of a rare one: label-frequency weights make each label half of the draws
        var entries = Enumerable.Range(0, 1000).Select(i => new DatasetEntry($"x{i}", [i < 900 ? "/m/common" : "/m/rare"])).ToList();
        var weights = SampleWeights.FromLabelFrequencies(entries, new LabelSet(["/m/common", "/m/rare"], ["common", "rare"]));
        int Rare(EpochOrder o) => Enumerable.Range(0, 1000).Count(p => o[p] >= 900);
        int[] Clips(EpochOrder o) => Enumerable.Range(0, 1000).Select(p => o[p]).ToArray();
        var order = new EpochOrder(1000, seed: 7, epoch: 3, shuffle: true, weights);
        int rare = Enumerable.Range(0, 10).Sum(epoch => Rare(new EpochOrder(1000, 7, epoch, true, weights)));
        Assert.InRange(rare, 4700, 5300); // 10 000 draws, p = 0.5: ± 6 standard deviations
        Assert.Equal(Clips(order), Clips(new EpochOrder(1000, seed: 7, epoch: 3, shuffle: true, weights)));
        Assert.NotEqual(Clips(order), Clips(new EpochOrder(1000, seed: 7, epoch: 4, shuffle: true, weights)));
        Assert.True(Clips(order).Distinct().Count() < 1000, "with replacement, some clips come twice");
        // evaluation stays in list order whatever the weights
        Assert.Equal(Enumerable.Range(0, 1000), Clips(new EpochOrder(1000, 7, 3, shuffle: false, weights)));
    }
}
