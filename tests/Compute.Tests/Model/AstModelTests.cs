using ActorTraining.Compute.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

[Collection(TorchGlobalRngCollection.Name)]
public class AstModelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    internal static AstConfig Small(int targetLength = 256, int stride = 16, int depth = 2, int classes = 5) =>
        new(EmbedDim: 64, Depth: depth, Heads: 2, NumClasses: classes, MelBins: 128, TargetLength: targetLength,
            FStride: stride, TStride: stride);

    [Fact]
    public void StateDictKeysAreTheReferenceKeys()
    {
        using var model = new AstModel(Small(depth: 2));
        var expected = new List<string> { "v.cls_token", "v.pos_embed", "v.dist_token", "v.patch_embed.proj.weight", "v.patch_embed.proj.bias" };
        for (int i = 0; i < 2; i++)
            foreach (var name in new[] { "norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2" })
                expected.AddRange(new[] { $"v.blocks.{i}.{name}.weight", $"v.blocks.{i}.{name}.bias" });
        expected.AddRange(new[] { "v.norm.weight", "v.norm.bias", "mlp_head.0.weight", "mlp_head.0.bias", "mlp_head.1.weight", "mlp_head.1.bias" });
        Assert.Equal(expected.OrderBy(k => k, StringComparer.Ordinal), model.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void ShapesFollowTheReferenceGeometry()
    {
        using var scope = NewDisposeScope();
        var config = Small(stride: 10);
        using var model = new AstModel(config);
        var state = model.state_dict();
        Assert.Equal(12, config.FDim);  // (128 − 16) / 10 + 1
        Assert.Equal(25, config.TDim);  // (256 − 16) / 10 + 1
        Assert.Equal(new long[] { 1, 302, 64 }, state["v.pos_embed"].shape);
        Assert.Equal(new long[] { 64, 1, 16, 16 }, state["v.patch_embed.proj.weight"].shape);
        Assert.Equal(new long[] { 192, 64 }, state["v.blocks.1.attn.qkv.weight"].shape);
        Assert.Equal(new long[] { 256, 64 }, state["v.blocks.1.mlp.fc1.weight"].shape);
        Assert.Equal(new long[] { 5, 64 }, state["mlp_head.1.weight"].shape);
        var logits = model.forward(randn(3, 256, 128));
        Assert.Equal(new long[] { 3, 5 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        Assert.Throws<ArgumentException>(() => model.forward(randn(3, 128, 128)));
    }

    [Fact]
    public void NamedSizesAndTheBaseGridMatchTheReference()
    {
        Assert.Equal((192, 12, 3), (AstConfig.Tiny(2).EmbedDim, AstConfig.Tiny(2).Depth, AstConfig.Tiny(2).Heads));
        Assert.Equal((384, 12, 6), (AstConfig.Small(2).EmbedDim, AstConfig.Small(2).Depth, AstConfig.Small(2).Heads));
        Assert.Equal((768, 12, 12), (AstConfig.Base(2).EmbedDim, AstConfig.Base(2).Depth, AstConfig.Base(2).Heads));
        Assert.Equal((12, 101, 1212), (AstConfig.Base(527).FDim, AstConfig.Base(527).TDim, AstConfig.Base(527).NumPatches));
        var stride16 = AstConfig.Base(527) with { FStride = 16, TStride = 16 };
        Assert.Equal((8, 64, 512), (stride16.FDim, stride16.TDim, stride16.NumPatches));
        var error = Assert.Throws<ArgumentException>(() => new AstConfig(64, 2, 3, 5).Validate());
        Assert.Contains("Heads", error.Message);
    }

    [Fact]
    public void InitialisationIsTimmLike()
    {
        torch.manual_seed(3);
        using var model = new AstModel(Small(depth: 2));
        var state = model.state_dict();
        double std = state["v.blocks.0.mlp.fc1.weight"].std().item<float>();
        Assert.InRange(std, 0.017, 0.021); // trunc_normal(.02) truncated at ±2 absolute → std ≈ .02
        Assert.InRange(state["v.pos_embed"].std().item<float>(), 0.017, 0.021);
        Assert.Equal(0f, state["v.blocks.0.attn.qkv.bias"].abs().max().item<float>());
        Assert.Equal(1f, state["v.norm.weight"].min().item<float>());
        Assert.Equal(0f, state["mlp_head.1.bias"].abs().max().item<float>());
    }

    [Fact]
    public void TinyModelOverfitsATinyBatch()
    {
        torch.manual_seed(7);
        var config = new AstConfig(64, 2, 2, 4, MelBins: 32, TargetLength: 64, FStride: 16, TStride: 16);
        using var model = new AstModel(config);
        var x = randn(4, 64, 32);
        var y = tensor(new long[] { 0, 1, 2, 3 });
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        float first = 0, last = 0;
        int steps = 0;
        for (; steps < 300; steps++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (steps == 0) first = last;
            if (last < first / 20) break;
        }
        output.WriteLine($"loss {first:F4} → {last:F4} in {steps + 1} steps");
        Assert.True(last < first / 10, $"loss {first} → {last} after {steps} steps did not fall 10×");
    }
}
