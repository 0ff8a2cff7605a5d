using ActorTraining.Compute.Compression;
using ActorTraining.Compute.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Phase = ActorTraining.Compute.Compression.Compression;

namespace ActorTraining.Compute.Tests.Model;

[Collection(TorchGlobalRngCollection.Name)]
public class PhaseTransferTests(ITestOutputHelper output)
{
    private static readonly AstConfig Fine = new(64, 2, 2, 4, MelBins: 64, TargetLength: 256, FStride: 16, TStride: 16);

    [Theory]
    [InlineData(CompressionMethod.Pool, 1)]
    [InlineData(CompressionMethod.Pool, 2)]
    [InlineData(CompressionMethod.Patch, 4)]
    public void SameGeometryTransferIsBitIdentical(CompressionMethod method, int factor)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(21);
        var config = new Phase(method, factor).ModelConfig(Fine).Ast!;
        using var source = new AstModel(config);
        source.eval();
        using var copy = PhaseTransfer.Transfer(source, config);
        var x = randn(2, config.TargetLength, config.MelBins);
        Assert.True(source.forward(x).BitEqual(copy.forward(x)));
        Assert.False(copy.training);
    }

    [Fact]
    public void PosEmbedIsInterpolatedOnTimeOnlyKeepingClsAndDist()
    {
        using var scope = NewDisposeScope();
        using var fine = new AstModel(Fine);          // grid 4 × 16
        var coarse = Fine with { TargetLength = 128 }; // grid 4 × 8
        using var moved = PhaseTransfer.Transfer(fine, coarse);
        var before = fine.state_dict()["v.pos_embed"];
        var after = moved.state_dict()["v.pos_embed"];
        Assert.Equal(new long[] { 1, 2 + 32, 64 }, after.shape);
        Assert.True(after[.., ..2].BitEqual(before[.., ..2]));
        // Halving with align_corners false samples at 2i + 0.5: the mean of time columns 2i and 2i+1, per f row.
        var grid = before[0, 2..].reshape(4, 16, 64);
        var expected = (grid[.., TensorIndex.Slice(0, null, 2)] + grid[.., TensorIndex.Slice(1, null, 2)]) / 2;
        Assert.True((after[0, 2..].reshape(4, 8, 64) - expected).abs().max().item<float>() < 1e-6);
        // Everything else is copied exactly.
        Assert.True(moved.state_dict()["v.blocks.1.mlp.fc2.weight"].BitEqual(fine.state_dict()["v.blocks.1.mlp.fc2.weight"]));
    }

    [Fact]
    public void PatchTransferPiResizesTheKernel()
    {
        using var scope = NewDisposeScope();
        using var fine = new AstModel(Fine);
        var coarse = new Phase(CompressionMethod.Patch, 2).ModelConfig(Fine);
        using var moved = PhaseTransfer.Transfer(fine, coarse);
        var kernel = fine.state_dict()["v.patch_embed.proj.weight"];
        Assert.True(moved.state_dict()["v.patch_embed.proj.weight"].allclose(PiResize.Resize(kernel, 16, 32)));
        Assert.True(moved.state_dict()["v.patch_embed.proj.bias"].BitEqual(fine.state_dict()["v.patch_embed.proj.bias"]));
        Assert.Throws<ArgumentException>(() => PhaseTransfer.Transfer(fine, Fine with { EmbedDim = 128 }));
    }

    // Clips whose class is a frequency band, with a temporal rhythm and noise that is constant over 32-frame blocks.
    // (With white noise per frame, a 16-clip model memorises noise whose statistics pooling changes, and the
    // measured gap is that memorisation, not the transfer: with no noise at all the gap was < 0.006.)
    private static (Tensor X, Tensor Y) SmoothBatch(int count, int frames, int mel, int seed)
    {
        var generator = new Generator().manual_seed(seed);
        var y = arange(count) % 4;
        var t = arange(frames, dtype: float32).reshape(1, frames, 1);
        var f = arange(mel, dtype: float32).reshape(1, 1, mel);
        var band = ((f - (y.reshape(count, 1, 1) * 16 + 8)).abs() < 6).to(float32);
        var phase = rand(count, 1, 1, generator: generator) * (2 * Math.PI);
        var rhythm = 0.5f * sin(t * (2 * Math.PI / 128) + phase);
        var x = band * (1 + rhythm) + 0.1f * randn(count, frames / 32, mel, generator: generator).repeat_interleave(32, dim: 1);
        return (x, y);
    }

    [Theory]
    [InlineData(CompressionMethod.Pool, 2)]
    [InlineData(CompressionMethod.Patch, 2)]
    [InlineData(CompressionMethod.Pool, 4)]
    public void TransferredModelStartsTheFinePhaseNearTheCoarseLoss(CompressionMethod method, int factor)
    {
        torch.manual_seed(31);
        var phase = new Phase(method, factor, PoolingKind.Avg);
        var coarseConfig = phase.ModelConfig(Fine).Ast!;
        var (x, y) = SmoothBatch(16, Fine.TargetLength, Fine.MelBins, 5);
        var coarseX = phase.ApplyToFbank(x);
        using var coarse = new AstModel(coarseConfig);
        int steps = 0;
        using (var optimizer = optim.Adam(coarse.parameters(), lr: 1e-3))
            for (double trainLoss = double.MaxValue; trainLoss > 0.05 && steps < 200; steps++)
            {
                using var stepScope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(coarse.forward(coarseX), y);
                loss.backward();
                optimizer.step();
                trainLoss = loss.item<float>();
            }
        coarse.eval();
        using var scope = NewDisposeScope();
        // The same clips, coarse and fine: the gap measures what the transition itself loses.
        var (testX, testY) = (x, y);
        using var _ = no_grad();
        double coarseLoss = nn.functional.cross_entropy(coarse.forward(phase.ApplyToFbank(testX)), testY).item<float>();
        using var fine = PhaseTransfer.Transfer(coarse, Fine);
        double fineLoss = nn.functional.cross_entropy(fine.forward(testX), testY).item<float>();
        output.WriteLine($"{phase}: {steps} steps, coarse loss {coarseLoss:F4}, fine loss right after transfer {fineLoss:F4} (chance {Math.Log(4):F4})");
        Assert.True(coarseLoss < 0.1, $"coarse model did not learn: {coarseLoss}");
        Assert.True(double.IsFinite(fineLoss));
        // Measured (seed 31): pool C=2 0.0464 → 0.0466, patch C=2 0.0465 → 0.0465, pool C=4 0.0474 → 0.1936.
        Assert.True(Math.Abs(fineLoss - coarseLoss) < 0.25, $"fine {fineLoss} vs coarse {coarseLoss}");
    }
}

internal static class TensorBits
{
    /// <summary>Same shape and the same bytes: bit-for-bit equality, as the identity transfer promises.</summary>
    public static bool BitEqual(this Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);
}
