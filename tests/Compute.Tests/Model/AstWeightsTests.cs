using ActorTraining.Compute.Model;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

public class AstWeightsTests(ITestOutputHelper output)
{
    // make_fixture.py: dim 64, depth 2, heads 2, 5 classes, 128 mel × 256 frames.
    private static AstConfig FixtureConfig(int stride) => new(64, 2, 2, 5, MelBins: 128, TargetLength: 256, FStride: stride, TStride: stride);

    private double MaxLogitError(AstModel model, int stride)
    {
        model.eval();
        using var _ = no_grad();
        var logits = model.forward(AstFixtures.ReadNpy("input.npy"));
        var expected = AstFixtures.ReadNpy($"logits_s{stride}.npy");
        double error = (logits - expected).abs().max().item<float>();
        output.WriteLine($"stride {stride}: max |logit − PyTorch| = {error:E2} (logits up to {expected.abs().max().item<float>():F3})");
        return error;
    }

    [Fact]
    public void StrideTenLogitsMatchPyTorch()
    {
        using var scope = NewDisposeScope();
        using var model = new AstModel(FixtureConfig(10));
        AstWeights.LoadPyTorch(model, AstFixtures.Path("ast_s10.pth"));
        Assert.True(MaxLogitError(model, 10) <= 1e-4);
    }

    [Fact]
    public void ModulePrefixedStrideSixteenLogitsMatchPyTorch()
    {
        using var scope = NewDisposeScope();
        using var model = new AstModel(FixtureConfig(16));
        AstWeights.LoadPyTorch(model, AstFixtures.Path("ast_s16_module.pth"));
        Assert.True(MaxLogitError(model, 16) <= 1e-4);
    }

    [Fact]
    public void StateDictKeysEqualTheReferenceKeyList()
    {
        using var model = new AstModel(FixtureConfig(10));
        // the upstream model's keys but timm's ImageNet heads v.head / v.head_dist, which its forward never reads
        var reference = File.ReadAllLines(AstFixtures.Path("keys.txt")).Where(l => l.Length > 0 && !AstWeights.IsUnusedTimmHead(l)).ToHashSet();
        Assert.Equal(35, reference.Count); // 5 embedding keys + 2 blocks × 12 + v.norm 2 + mlp_head 4
        Assert.True(reference.SetEquals(model.state_dict().Keys), string.Join(", ", reference.Except(model.state_dict().Keys)));
    }

    [Fact]
    public void SafetensorsAndPthExportsRoundTrip()
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("ast-weights-");
        try
        {
            using var model = new AstModel(FixtureConfig(10));
            AstWeights.LoadPyTorch(model, AstFixtures.Path("ast_s10.pth"));
            var safetensors = Path.Combine(dir.FullName, "ast.safetensors");
            var pth = Path.Combine(dir.FullName, "ast.pth");
            AstWeights.SaveSafetensors(model, safetensors);
            model.save_py(pth); // TorchSharp.PyBridge: what a PyTorch user would load
            foreach (var file in new[] { safetensors, pth })
            {
                using var copy = new AstModel(FixtureConfig(10));
                AstWeights.LoadPyTorch(copy, file);
                Assert.True(MaxLogitError(copy, 10) <= 1e-4);
                foreach (var (key, value) in model.state_dict())
                    Assert.True(value.BitEqual(copy.state_dict()[key]), $"{file}: {key} differs");
            }
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void MismatchedGeometryIsRejectedNamingTheKey()
    {
        using var model = new AstModel(FixtureConfig(16));
        var error = Assert.Throws<InvalidDataException>(() => AstWeights.LoadPyTorch(model, AstFixtures.Path("ast_s10.pth")));
        Assert.Contains("v.pos_embed", error.Message);
        Assert.Contains("ast_s10.pth", error.Message);
        using var deeper = new AstModel(FixtureConfig(10) with { Depth = 3 });
        var missing = Assert.Throws<InvalidDataException>(() => AstWeights.LoadPyTorch(deeper, AstFixtures.Path("ast_s10.pth")));
        Assert.Contains("v.blocks.2.attn.qkv.weight", missing.Message);
    }

    [Theory]
    [InlineData(10)] // t_dim 25 > 24: time interpolated; f_dim 12: centre crop
    [InlineData(16)] // t_dim 16, f_dim 8: both centre crops
    public void DeiTAdaptationMatchesTheReference(int stride)
    {
        using var scope = NewDisposeScope();
        var config = new AstConfig(32, 1, 2, 5, MelBins: 128, TargetLength: 256, FStride: stride, TStride: stride);
        using var model = new AstModel(config);
        AstWeights.LoadDeiT(model, AstFixtures.Path("deit_tiny.pth"));
        var reference = PyTorchStateDict.Read(AstFixtures.Path($"deit_adapted_s{stride}.pth"));
        foreach (var (key, value) in model.state_dict().Where(kv => kv.Key.StartsWith("v.")))
        {
            double error = (value - reference[key]).abs().max().item<float>();
            Assert.True(error < 1e-5, $"{key}: max difference {error}");
        }
    }
}
