using ActorTraining.Compute.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

/// <summary><c>model.init = htsat:</c> on the reference's checkpoint forms, written from the upstream model (tests/fixtures/htsat).</summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class HtsatStartTests(ITestOutputHelper output)
{
    static readonly HtsatConfig Fixture = new(5, MelBins: 64, TargetLength: 1024, EmbedDim: 8, Depths: [2, 2, 2, 2], Heads: [1, 2, 2, 4]);

    static double LogitError(HtsatModel model)
    {
        model.eval();
        using var _ = no_grad();
        var expected = AstFixtures.ReadNpy("logits.npy", "htsat");
        return (model.forward(AstFixtures.ReadNpy("input.npy", "htsat")) - expected).abs().max().item<float>();
    }

    [Theory]
    [InlineData("htsat_lightning.ckpt")] // the released form: Lightning's dictionary, sed_model. keys, front end and buffers
    [InlineData("htsat.pth")]            // a plain state dict of HTSAT_Swin_Transformer
    public void TheReferenceCheckpointFormsGiveTheUpstreamLogits(string file)
    {
        using var scope = NewDisposeScope();
        using var model = new HtsatModel(Fixture);
        var notes = HtsatStart.Load(model, AstFixtures.Path(file, "htsat"));
        Assert.Empty(notes);
        double error = LogitError(model);
        output.WriteLine($"{file}: max |ours − upstream| = {error:E2}");
        Assert.True(error <= 1e-4);
    }

    [Fact]
    public void AnotherClassCountKeepsTheSeededTokenSemanticHeadWithANoteAndTakesTheRest()
    {
        using var scope = NewDisposeScope();
        using var reference = new HtsatModel(Fixture);
        HtsatStart.Load(reference, AstFixtures.Path("htsat_lightning.ckpt", "htsat"));
        TorchSharp.torch.manual_seed(9);
        using var model = new HtsatModel(Fixture with { NumClasses = 3 });
        var seeded = model.state_dict()["tscam_conv.weight"].clone();
        var notes = HtsatStart.Load(model, AstFixtures.Path("htsat_lightning.ckpt", "htsat"));
        Assert.Equal("its token-semantic head has 5 classes, the run 3: tscam_conv starts from the seed", Assert.Single(notes));
        Assert.True(model.state_dict()["tscam_conv.weight"].BitEqual(seeded));
        foreach (var (key, value) in model.state_dict().Where(kv => !kv.Key.StartsWith("tscam_conv.", StringComparison.Ordinal)))
            Assert.True(value.BitEqual(reference.state_dict()[key]), key);
    }

    [Fact]
    public void AnotherDepthOrMelCountIsRefusedNamingTheFileAndTheKey()
    {
        using var deeper = new HtsatModel(Fixture with { Depths = [2, 2, 4, 2] });
        var depth = Assert.Throws<InvalidDataException>(() => HtsatStart.Load(deeper, AstFixtures.Path("htsat_lightning.ckpt", "htsat")));
        Assert.Contains("htsat_lightning.ckpt: not an HTS-AT of the run's depths", depth.Message);
        Assert.Contains("layers.2.blocks.2", depth.Message);
        using var wider = new HtsatModel(Fixture with { MelBins = 128 });
        var mel = Assert.Throws<InvalidDataException>(() => HtsatStart.Load(wider, AstFixtures.Path("htsat.pth", "htsat")));
        Assert.Contains("htsat.pth: '", mel.Message);
        Assert.Contains("' has shape [", mel.Message);
        Assert.Contains("128 mel; model.htsat, model.mel-bins", mel.Message);
        output.WriteLine(depth.Message + "\n" + mel.Message);
    }

    [Fact]
    public void AnAstCheckpointIsNotAnHtsat()
    {
        using var model = new HtsatModel(Fixture);
        var error = Assert.Throws<InvalidDataException>(() => HtsatStart.Load(model, AstFixtures.Path("ast_s10.pth")));
        Assert.Contains("ast_s10.pth: not an HTS-AT", error.Message);
    }
}
