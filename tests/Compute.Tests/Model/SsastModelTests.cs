using System.Text;
using System.Text.RegularExpressions;
using ActorTraining.Compute.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

/// <summary>SsastModel against tests/fixtures/ssast, made by the upstream ast_models.py's mpc and mpg with fixed masks.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class SsastModelTests(ITestOutputHelper output)
{
    // the fixture's backbone: dim 64, depth 2, heads 2 on 128 mel × 64 frames
    static AstConfig Geometry(string kind) => kind == "patch"
        ? new AstConfig(64, 2, 2, 1, MelBins: 128, TargetLength: 64, PatchF: 16, PatchT: 16, FStride: 16, TStride: 16)
        : new AstConfig(64, 2, 2, 1, MelBins: 128, TargetLength: 64, PatchF: 128, PatchT: 2, FStride: 128, TStride: 2);

    /// <summary>A little-endian int64 .npy array.</summary>
    static Tensor ReadMask(string name)
    {
        var bytes = File.ReadAllBytes(AstFixtures.Path(name, "ssast"));
        int headerLength = bytes[8] | bytes[9] << 8;
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<i8'", header);
        var shape = Regex.Match(header, @"'shape': \(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        var tensor = empty(shape, int64);
        tensor.bytes = bytes.AsSpan(10 + headerLength);
        return tensor;
    }

    [Theory]
    [InlineData("patch")]
    [InlineData("frame")]
    public void BothPretextLossesAndTheAccuracyMatchTheUpstreamWithTheSameMasks(string kind)
    {
        using var model = new SsastModel(Geometry(kind));
        var reference = PyTorchStateDict.Read(AstFixtures.Path($"ssast_{kind}.pth", "ssast"));
        var ours = model.state_dict();
        // all but the recorded input size and timm's ImageNet heads, which the upstream model carries and never uses
        Assert.Equal(reference.Keys.Where(k => !k.StartsWith("p_input_", StringComparison.Ordinal) && !AstWeights.IsUnusedTimmHead(k)).Order(), ours.Keys.Order());
        using (no_grad())
            foreach (var (key, tensor) in ours) tensor.copy_(reference[key]);
        model.eval();
        var input = AstFixtures.ReadNpy("input.npy", "ssast");
        var expected = AstFixtures.ReadNpy($"losses_{kind}.npy", "ssast").data<float>().ToArray();
        using var _ = no_grad();
        var (accuracy, nce, mse) = model.Pretext(input, ReadMask($"mask_{kind}_mpc.npy"), ReadMask($"mask_{kind}_mpg.npy"));
        Assert.Equal(new long[] { 2 }, accuracy.shape); // per clip; their means are the reference's batch values
        float[] actual = [accuracy.mean().item<float>(), nce.mean().item<float>(), mse.mean().item<float>()];
        output.WriteLine($"{kind}: upstream acc/nce/mse {string.Join(" / ", expected)}, ours {string.Join(" / ", actual)}");
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4, $"{new[] { "accuracy", "nce", "mse" }[i]}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void PretrainingStepsLowerTheJointLossAndTrainTheMaskEmbeddingAndBothHeads()
    {
        torch.manual_seed(4);
        using var model = new SsastModel(Geometry("patch"));
        var optimizer = ActorTraining.Compute.Training.TrainingStep.CreateOptimizer(model, 1e-3);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var x = randn(4, 64, 128);
        var mask = stack(Enumerable.Range(0, 4).Select(i => randperm(32)[..8]).ToArray());
        double first = 0, last = 0;
        for (int step = 0; step < 10; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var (_, nce, mse) = model.Pretext(x, mask, mask);
            using var ten = 10.0.ToScalar();
            var loss = nce.add(mse, ten).mean(); // the reference's nce + 10 · mse
            loss.backward();
            optimizer.Step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        output.WriteLine($"joint loss {first:F4} → {last:F4}");
        Assert.True(last < first);
        foreach (var key in new[] { "mask_embed", "cpredlayer.2.weight", "gpredlayer.2.weight", "v.pos_embed" })
            Assert.False(model.state_dict()[key].BitEqual(before[key]), $"{key} did not train");
    }

    [Theory]
    [InlineData(AstPooling.MeanTokens, "logits_ft_avgtok.npy")]
    [InlineData(AstPooling.Cls, "logits_ft_cls.npy")]
    public void FineTuningPoolsAsTheUpstreamFtAvgtokAndFtCls(AstPooling pooling, string logits)
    {
        using var scope = NewDisposeScope();
        using var model = new AstModel(Geometry("patch") with { NumClasses = 5, Pooling = pooling });
        AstWeights.LoadPyTorch(model, AstFixtures.Path("ssast_finetune.pth", "ssast"));
        model.eval();
        using var _ = no_grad();
        var actual = model.forward(AstFixtures.ReadNpy("input.npy", "ssast"));
        var expected = AstFixtures.ReadNpy(logits, "ssast");
        double error = (actual - expected).abs().max().item<float>();
        output.WriteLine($"{pooling}: max |ours − upstream {logits}| = {error:E2} over logits up to {expected.abs().max().item<float>():F2}");
        Assert.True(error <= 1e-4);
    }
}
