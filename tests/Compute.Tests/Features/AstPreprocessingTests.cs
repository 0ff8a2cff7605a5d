using ActorTraining.Compute.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Features;

public class AstPreprocessingTests
{
    private static Tensor Ramp(int frames, int bins) => arange(1, frames * bins + 1, float32).reshape(frames, bins);

    [Fact]
    public void PadAppendsZeroFramesAndCutDropsTheTail()
    {
        using var scope = NewDisposeScope();
        var x = Ramp(5, 3);
        var padded = AstPreprocessing.PadOrCut(x, 8);
        Assert.Equal([8L, 3L], padded.shape);
        Assert.True(padded[..5].equal(x).all().item<bool>());
        Assert.Equal(0, padded[5..].abs().sum().item<float>());
        var cut = AstPreprocessing.PadOrCut(x, 2);
        Assert.True(cut.equal(x[..2]).all().item<bool>());
        var same = AstPreprocessing.PadOrCut(x, 5);
        Assert.True(same.equal(x).all().item<bool>());
        Assert.NotEqual(x.Handle, same.Handle);
    }

    [Fact]
    public void NormalizeIsMinusMeanOverTwoStd()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { -4.2677393f, 4.870256f, -13.405734f }).reshape(3, 1);
        var y = AstPreprocessing.Normalize(x, AstPreprocessing.AudioSetMean, AstPreprocessing.AudioSetStd).data<float>().ToArray();
        Assert.Equal(0, y[0], 5);
        Assert.Equal(1, y[1], 5);
        Assert.Equal(-1, y[2], 5);
    }

    [Fact]
    public void SpecAugmentMasksOneFrequencyBandAndOneTimeSpanWithinLimits()
    {
        var rng = new Random(3);
        int maskedAnyTime = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            using var scope = NewDisposeScope();
            var x = Ramp(100, 128); // no zeros before masking
            var y = AstPreprocessing.SpecAugment(x, freqm: 48, timem: 20, rng);
            var zero = y.eq(0);
            var zeroColumns = zero.all(0).nonzero().reshape(-1).data<long>().ToArray(); // frequency bins fully masked
            var zeroRows = zero.all(1).nonzero().reshape(-1).data<long>().ToArray();    // frames fully masked
            Assert.InRange(zeroColumns.Length, 0, 47);
            Assert.InRange(zeroRows.Length, 0, 19);
            if (zeroColumns.Length > 0) Assert.Equal(zeroColumns.Length - 1, zeroColumns[^1] - zeroColumns[0]); // contiguous
            if (zeroRows.Length > 0) Assert.Equal(zeroRows.Length - 1, zeroRows[^1] - zeroRows[0]);
            // Every zero cell lies in the masked band or span.
            long expectedZeros = zeroColumns.Length * 100L + zeroRows.Length * 128L - (long)zeroColumns.Length * zeroRows.Length;
            Assert.Equal(expectedZeros, zero.sum().item<long>());
            if (zeroRows.Length > 0) maskedAnyTime++;
            Assert.Equal(0, x.eq(0).sum().item<long>()); // input untouched
        }
        Assert.InRange(maskedAnyTime, 150, 200);
    }

    [Fact]
    public void SpecAugmentWithZeroParametersIsIdentity()
    {
        using var scope = NewDisposeScope();
        var x = Ramp(10, 8);
        Assert.True(AstPreprocessing.SpecAugment(x, 0, 0, new Random(1)).equal(x).all().item<bool>());
    }

    [Fact]
    public void MixupLambdaFollowsBeta10And10()
    {
        var rng = new Random(11);
        var lambdas = Enumerable.Range(0, 4000).Select(_ => AstPreprocessing.Mixup([1f, 2f], [3f], rng).Lambda).ToArray();
        double mean = lambdas.Average(), std = Math.Sqrt(lambdas.Select(l => (l - mean) * (l - mean)).Sum() / (lambdas.Length - 1));
        Assert.InRange(mean, 0.49, 0.51);                       // Beta(10,10): mean 0.5
        Assert.InRange(std, 0.109 - 0.006, 0.109 + 0.006);      // std √(100 / (400·21)) = 0.1091
        Assert.All(lambdas, l => Assert.InRange(l, 0.0, 1.0));
    }

    [Fact]
    public void MixupCentresPadsAndRecentres()
    {
        float[] first = [1, 2, 3, 4, 5, 6], partner = [10, 20, 30];
        var (mixed, lambda) = AstPreprocessing.Mixup(first, partner, new Random(5));
        Assert.Equal(first.Length, mixed.Length);
        // by hand: centred first = [-2.5..2.5], centred partner = [-10, 0, 10, 0, 0, 0] (padded after centring)
        double[] c1 = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], c2 = [-10, 0, 10, 0, 0, 0];
        var raw = c1.Select((v, i) => lambda * v + (1 - lambda) * c2[i]).ToArray();
        double m = raw.Average();
        for (int i = 0; i < mixed.Length; i++) Assert.Equal(raw[i] - m, mixed[i], 5);
        Assert.Equal(0, mixed.Average(), 5);
        var (cut, _) = AstPreprocessing.Mixup(partner, first, new Random(5)); // longer partner is cut to first's length
        Assert.Equal(3, cut.Length);
    }
}
