using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

public sealed class PretrainedStartTests : IDisposable
{
    // make_fixture.py's reference AST: dim 64, depth 2, heads 2, 5 classes, 128 mel × 256 frames, stride 10 (grid 12 × 25)
    static readonly AstConfig Reference = new(64, 2, 2, 5, MelBins: 128, TargetLength: 256, FStride: 10, TStride: 10);
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pretrained-start-");

    public void Dispose() => _dir.Delete(recursive: true);

    static ModelInit Init(string setting) => ModelInit.Parse(setting, Environment.CurrentDirectory)!;

    static Tensor Logits(AstModel model, Tensor input)
    {
        model.eval();
        using var _ = no_grad();
        return model.forward(input);
    }

    [Fact]
    public void AReferenceAstCheckpointStartsTheRunWithTheReferenceLogits()
    {
        using var scope = NewDisposeScope();
        using var model = new AstModel(Reference);
        var notes = PretrainedStart.Load(model, Init($"ast:{AstFixtures.Path("ast_s10.pth")}"));
        Assert.Empty(notes);
        var error = (Logits(model, AstFixtures.ReadNpy("input.npy")) - AstFixtures.ReadNpy("logits_s10.npy")).abs().max().item<float>();
        Assert.True(error <= 1e-4, $"max |logit − PyTorch| = {error}");
    }

    [Fact]
    public void AShorterInputTakesTheMiddleOfTheReferenceTimeGridAsAstModelsPyCrops()
    {
        using var scope = NewDisposeScope();
        var source = AstWeights.ReadStateDict(AstFixtures.Path("ast_s10.pth"))["v.pos_embed"]; // [1, 2 + 12·25, 64]
        using var model = new AstModel(Reference with { TargetLength = 136 }); // t_dim (136 − 16) / 10 + 1 = 13 < 25
        PretrainedStart.Load(model, Init($"ast:{AstFixtures.Path("ast_s10.pth")}"));
        var grid = source[.., 2..].reshape(12, 25, 64);
        // ast_models.py: new_pos_embed[:, :, :, 50 − int(t_dim / 2) : … + t_dim] with its 101 → here 25 / 2 − 13 / 2 = 6
        var expected = cat(new[] { source[.., ..2], grid[.., 6..19].reshape(1, 12 * 13, 64) }, dim: 1);
        Assert.True(model.state_dict()["v.pos_embed"].BitEqual(expected));
    }

    /// <summary>A reference SSAST pretraining .pth (the fixture made by the upstream ast_models.py: frame-based, 128 × 2
    /// patches on 128 mel × 64 frames, p_input_fdim/tdim recorded): `ast:` takes its encoder as the reference's fine-tuning
    /// stage does, the grid from what it records (1 × 32), not from the token count.</summary>
    [Fact]
    public void AReferenceSsastCheckpointGivesItsEncoderAndItsRecordedGrid()
    {
        using var scope = NewDisposeScope();
        var reference = AstWeights.ReadStateDict(AstFixtures.Path("ssast_frame.pth", "ssast"));
        var frames = new AstConfig(64, 2, 2, 4, MelBins: 128, TargetLength: 64, PatchF: 128, PatchT: 2, FStride: 128, TStride: 2);
        using var model = new AstModel(frames);
        var notes = PretrainedStart.Load(model, Init($"ast:{AstFixtures.Path("ssast_frame.pth", "ssast")}"));
        Assert.Contains(notes, n => n.Contains("no AST head"));
        foreach (var (key, value) in model.state_dict().Where(kv => kv.Key.StartsWith("v.", StringComparison.Ordinal)))
            Assert.True(value.BitEqual(reference[key]), key);
        // a longer fine-tuning input (96 frames: 48 frame patches) interpolates the recorded 32 along time
        using var longer = new AstModel(frames with { TargetLength = 96 });
        PretrainedStart.Load(longer, Init($"ast:{AstFixtures.Path("ssast_frame.pth", "ssast")}"));
        var grid = reference["v.pos_embed"][.., 2..].transpose(1, 2).reshape(1, 64, 1, 32);
        var expected = cat([reference["v.pos_embed"][.., ..2],
            nn.functional.interpolate(grid, [1, 48], mode: InterpolationMode.Bilinear, align_corners: false).reshape(1, 64, 48).transpose(1, 2)], dim: 1);
        Assert.True(longer.state_dict()["v.pos_embed"].BitEqual(expected));
    }

    [Fact]
    public void OurCheckpointWithAnotherClassCountGivesTheBackboneAndASeededHeadWithANote()
    {
        using var scope = NewDisposeScope();
        using var trained = new AstModel(Reference);
        AstWeights.LoadPyTorch(trained, AstFixtures.Path("ast_s10.pth"));
        var path = Path.Combine(_dir.FullName, "trained.ckpt");
        CheckpointFile.Save(path, trained, TrainingStep.CreateOptimizer(trained, 1e-4, new AdamSettings()), new TrainingCheckpointInfo(0, 1, 0, 0, [0, 0, 0], TorchRng.Capture(), 1, 0, "pretrained"));
        using var model = new AstModel(Reference with { NumClasses = 3 });
        var headBefore = model.state_dict()["mlp_head.1.weight"].clone();
        var notes = PretrainedStart.Load(model, Init($"checkpoint:{path}"));
        Assert.Contains(notes, n => n.Contains("5 classes, the run 3"));
        Assert.True(model.state_dict()["mlp_head.1.weight"].BitEqual(headBefore));
        foreach (var (key, value) in trained.state_dict().Where(kv => kv.Key.StartsWith("v.")))
            Assert.True(model.state_dict()[key].BitEqual(value), key);
    }

    [Fact]
    public void ACoarseFirstPhaseGetsTheFineWeightsThroughThePhaseTransfer()
    {
        using var scope = NewDisposeScope();
        var init = Init($"ast:{AstFixtures.Path("ast_s10.pth")}");
        var coarse = Reference with { TargetLength = Reference.TargetLength / 4 };
        using var built = PretrainedStart.Build(Reference, coarse, init, out _);
        using var fine = new AstModel(Reference);
        PretrainedStart.Load(fine, init);
        using var transferred = PhaseTransfer.Transfer(fine, coarse);
        Assert.Equal(coarse, built.Config);
        foreach (var (key, value) in transferred.state_dict())
            Assert.True(built.state_dict()[key].BitEqual(value), key);
    }

    [Fact]
    public void AFileChangedSinceTheRunWasConfiguredIsRefused()
    {
        var copy = Path.Combine(_dir.FullName, "ast.pth");
        File.Copy(AstFixtures.Path("ast_s10.pth"), copy);
        var init = Init($"ast:{copy}");
        File.AppendAllText(copy, "x");
        using var model = new AstModel(Reference);
        var error = Assert.Throws<InvalidDataException>(() => PretrainedStart.Load(model, init));
        Assert.Contains("model.init changed since the run was configured", error.Message);
        Assert.StartsWith(copy, error.Message);
    }

    [Fact]
    public void WeightsOfAnotherSizeAreNamedWithTheKeyToSet()
    {
        using var deeper = new AstModel(Reference with { Depth = 3 });
        var depth = Assert.Throws<InvalidDataException>(() => PretrainedStart.Load(deeper, Init($"ast:{AstFixtures.Path("ast_s10.pth")}")));
        Assert.Contains("missing [v.blocks.2.", depth.Message);
        Assert.Contains("model.depth", depth.Message);
        using var wider = new AstModel(Reference with { EmbedDim = 96, Heads = 2 });
        var width = Assert.Throws<InvalidDataException>(() => PretrainedStart.Load(wider, Init($"ast:{AstFixtures.Path("ast_s10.pth")}")));
        Assert.Contains("model.embed-dim", width.Message);
    }

    [Theory]
    [InlineData("weights:/x.pth", "must be none, deit:<file>")]
    [InlineData("ast:", "names no file")]
    [InlineData("ast:/no/such/file.pth", "/no/such/file.pth: no such file")]
    [InlineData("hf:/no/such/folder", "/no/such/folder: no such folder")]
    public void BadSettingsNameTheKey(string setting, string reason)
    {
        var error = Assert.Throws<ConfigException>(() => ModelInit.Parse(setting, "/"));
        Assert.Equal("model.init", error.Key);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void NoneIsNoInitAndTheContentNotThePathIsTheIdentity()
    {
        Assert.Null(ModelInit.Parse("none", "/"));
        var copy = Path.Combine(_dir.FullName, "moved.pth");
        File.Copy(AstFixtures.Path("ast_s10.pth"), copy);
        var config = ExperimentConfig.Default();
        string With(string setting) => (config with { Model = config.Model with { Init = Init(setting) } }).Hash();
        Assert.Equal(With($"ast:{AstFixtures.Path("ast_s10.pth")}"), With($"ast:{copy}"));
        Assert.NotEqual(With($"ast:{copy}"), With($"ast:{AstFixtures.Path("ast_s16_module.pth")}"));
        Assert.NotEqual(config.Hash(), With($"ast:{copy}"));
    }
}
