using System.Text.Json.Nodes;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Tests.Features;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

public sealed class HuggingFaceAstTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    static readonly AstConfig Config = new(64, 2, 2, 5, MelBins: 128, TargetLength: 256, FStride: 10, TStride: 10);
    static readonly string[] Labels = ["a", "b", "c", "d", "e"];
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hf-ast-");

    public void Dispose() => _dir.Delete(recursive: true);

    AstModel Trained()
    {
        var model = new AstModel(Config);
        AstWeights.LoadPyTorch(model, AstFixtures.Path("ast_s10.pth"));
        return model;
    }

    string Export(AstModel model, string name = "hf")
    {
        var folder = Path.Combine(_dir.FullName, name);
        HuggingFaceAst.Write(folder, model, Labels, new HuggingFaceAst.FeatureExtractor(16000, -4.27, 4.57));
        return folder;
    }

    /// <summary>
    /// transformers' own ASTForAudioClassification and ASTFeatureExtractor (tests/fixtures/hf/make_fixture.py runs them
    /// unchanged) on our export of the upstream AST fixture model: the committed export is what we write today, byte for
    /// byte; transformers' logits from it are ours; its feature extractor on a waveform gives our fbank, padded and normalised.
    /// ACTORTRAINING_WRITE_HF_FIXTURE=folder writes the export there (the fixture's first step).
    /// </summary>
    [Fact]
    public void TransformersOwnCodeLoadsOurExportAndComputesOurLogitsAndFeatures()
    {
        using var scope = NewDisposeScope();
        using var model = Trained();
        var folder = Environment.GetEnvironmentVariable("ACTORTRAINING_WRITE_HF_FIXTURE") is { Length: > 0 } fixture
            ? fixture : Path.Combine(_dir.FullName, "for-transformers");
        HuggingFaceAst.Write(folder, model, Labels, new HuggingFaceAst.FeatureExtractor(16000, -4.27, 4.57));
        foreach (var file in new[] { "config.json", "model.safetensors", "preprocessor_config.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(folder, file)).AsSpan().SequenceEqual(File.ReadAllBytes(AstFixtures.Path(file, "hf/export"))),
                $"{file} differs from tests/fixtures/hf/export/{file}, the file transformers ran");

        model.eval();
        using (no_grad())
        {
            var expected = AstFixtures.ReadNpy("logits.npy", "hf");
            double error = (model.forward(AstFixtures.ReadNpy("input.npy")) - expected).abs().max().item<float>();
            output.WriteLine($"logits: max |ours − transformers' ASTForAudioClassification| = {error:E2} over values up to {expected.abs().max().item<float>():F2}");
            Assert.True(error <= 1e-4);
        }

        var wave = AudioDecoder.Decode(AstFixtures.Path("chirp.wav", "fbank"));
        using var fbank = new FbankExtractor(new FbankOptions(10, Config.MelBins)).Compute(wave);
        var ours = AstPreprocessing.Normalize(AstPreprocessing.PadOrCut(fbank, Config.TargetLength), -4.27, 4.57);
        var theirs = AstFixtures.ReadNpy("features.npy", "hf");
        Assert.Equal(theirs.shape, ours.shape);
        // the bounds of FbankParityTests over 2·std: 1e-3 log-mel above −10 log-mel; below it, torchaudio's own float32
        // FFT rounding (its float32 against its float64 on this clip, manifest.json) half again on top
        double scale = 2 * 4.57, floor = (FbankParityTests.FloorLogMel + 4.27) / scale;
        double selfError = JsonNode.Parse(File.ReadAllText(AstFixtures.Path("manifest.json", "fbank")))!["fixtures"]!.AsArray()
            .Single(f => f!["npy"]!.GetValue<string>() == "chirp.fs10.npy")!["torchaudio_f32_error"]!.GetValue<double>();
        var difference = (ours - theirs).abs();
        double above = difference.masked_select(theirs > floor).max().item<float>(), worst = difference.max().item<float>();
        output.WriteLine($"features: max |ours − ASTFeatureExtractor| = {above:E2} above the floor, {worst:E2} in all cells (normalised units)");
        Assert.True(above <= FbankParityTests.Tolerance / scale);
        Assert.True(worst <= (FbankParityTests.Tolerance + 1.5 * selfError) / scale);
    }

    [Fact]
    public void KeyNamesAreThoseOfTransformersASTForAudioClassification()
    {
        // written out from transformers' modeling_audio_spectrogram_transformer.py (ASTEmbeddings, ASTLayer, ASTMLPHead)
        const string p = "audio_spectrogram_transformer.";
        var expected = new List<string>
        {
            p + "embeddings.cls_token", p + "embeddings.distillation_token", p + "embeddings.position_embeddings",
            p + "embeddings.patch_embeddings.projection.weight", p + "embeddings.patch_embeddings.projection.bias",
            p + "layernorm.weight", p + "layernorm.bias",
            "classifier.layernorm.weight", "classifier.layernorm.bias", "classifier.dense.weight", "classifier.dense.bias",
        };
        foreach (var layer in new[] { 0, 1 })
            foreach (var module in new[] { "attention.attention.query", "attention.attention.key", "attention.attention.value",
                         "attention.output.dense", "intermediate.dense", "output.dense", "layernorm_before", "layernorm_after" })
                foreach (var kind in new[] { "weight", "bias" })
                    expected.Add($"{p}encoder.layer.{layer}.{module}.{kind}");
        using var model = new AstModel(Config);
        var theirs = HuggingFaceAst.ToHuggingFace(model.state_dict());
        Assert.Equal(expected.Order(), theirs.Keys.Order());
        // timm's fused qkv is [query; key; value] along the output rows (ast_models.py: qkv.reshape(B, N, 3, heads, …))
        var qkv = model.state_dict()["v.blocks.1.attn.qkv.weight"];
        Assert.True(theirs[p + "encoder.layer.1.attention.attention.query.weight"].BitEqual(qkv[..64]));
        Assert.True(theirs[p + "encoder.layer.1.attention.attention.key.weight"].BitEqual(qkv[64..128]));
        Assert.True(theirs[p + "encoder.layer.1.attention.attention.value.weight"].BitEqual(qkv[128..]));
    }

    [Fact]
    public void AnExportedFolderLoadsBackToTheSameLogits()
    {
        using var scope = NewDisposeScope();
        using var model = Trained();
        var folder = Export(model);
        using var loaded = new AstModel(Config);
        var notes = PretrainedStart.Load(loaded, ModelInit.Parse($"hf:{folder}", "/")!);
        Assert.Empty(notes);
        model.eval();
        loaded.eval();
        using var _ = no_grad();
        var input = AstFixtures.ReadNpy("input.npy");
        Assert.True(loaded.forward(input).BitEqual(model.forward(input)));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal("audio-spectrogram-transformer", config["model_type"]!.GetValue<string>());
        Assert.Equal("ASTForAudioClassification", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(64, config["hidden_size"]!.GetValue<int>());
        Assert.Equal(256, config["intermediate_size"]!.GetValue<int>());
        Assert.Equal(256, config["max_length"]!.GetValue<int>());
        Assert.Equal(128, config["num_mel_bins"]!.GetValue<int>());
        Assert.Equal("e", config["id2label"]!["4"]!.GetValue<string>());
        Assert.Equal(4, config["label2id"]!["e"]!.GetValue<int>());
        var preprocessor = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "preprocessor_config.json")))!;
        Assert.Equal("ASTFeatureExtractor", preprocessor["feature_extractor_type"]!.GetValue<string>());
        Assert.Equal(-4.27, preprocessor["mean"]!.GetValue<double>());
        var header = SafetensorsHeader(Path.Combine(folder, "model.safetensors"));
        Assert.Equal("pt", header["__metadata__"]!["format"]!.GetValue<string>());
    }

    [Fact]
    public void AMeanTokensModelIsRefusedForTransformersWhichPoolsTheClsTokens()
    {
        using var model = new AstModel(Config with { Pooling = AstPooling.MeanTokens });
        var folder = Path.Combine(Path.GetTempPath(), $"hf-mean-tokens-{Guid.NewGuid():N}");
        var error = Assert.Throws<ArgumentException>(() => HuggingFaceAst.Write(folder, model, ["a", "b", "c", "d", "e"], new(16000, -4.27, 4.57)));
        Assert.Contains("mean-tokens", error.Message);
        Assert.Contains("--format onnx", error.Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void ABareASTModelFolderGivesTheBackboneAndTheHeadFromTheSeed()
    {
        using var scope = NewDisposeScope();
        using var model = Trained();
        var folder = Export(model);
        var weights = Path.Combine(folder, "model.safetensors");
        // what ASTModel.save_pretrained writes: no prefix, no classifier
        var bare = SafetensorsFile.Read(weights).Where(kv => !kv.Key.StartsWith("classifier."))
            .ToDictionary(kv => kv.Key[HuggingFaceAst.Prefix.Length..], kv => kv.Value);
        SafetensorsFile.Write(weights, bare);
        using var loaded = new AstModel(Config);
        var head = loaded.state_dict()["mlp_head.1.weight"].clone();
        var notes = PretrainedStart.Load(loaded, ModelInit.Parse($"hf:{folder}", "/")!);
        Assert.Contains(notes, n => n.Contains("no AST head"));
        Assert.True(loaded.state_dict()["mlp_head.1.weight"].BitEqual(head));
        Assert.True(loaded.state_dict()["v.blocks.1.attn.qkv.weight"].BitEqual(model.state_dict()["v.blocks.1.attn.qkv.weight"]));
    }

    [Fact]
    public void AShorterMaxLengthInConfigJsonIsHonouredAndTheGridAdapted()
    {
        using var scope = NewDisposeScope();
        using var model = Trained();
        var folder = Export(model);
        // the same weights declared as a 12 × 25 grid: a run at 136 frames (t_dim 13) crops the middle as the reference
        using var shorter = new AstModel(Config with { TargetLength = 136 });
        PretrainedStart.Load(shorter, ModelInit.Parse($"hf:{folder}", "/")!);
        var grid = model.state_dict()["v.pos_embed"][.., 2..].reshape(12, 25, 64);
        Assert.True(shorter.state_dict()["v.pos_embed"][.., 2..].reshape(12, 13, 64).BitEqual(grid[.., 6..19]));
    }

    [Fact]
    public void TransformersSingleLayerNormEpsilonMovesTheLogitsByLessThan1e4()
    {
        // transformers applies config.layer_norm_eps (exported: 1e-6) to the head's LayerNorm as well; ours there is 1e-5
        using var scope = NewDisposeScope();
        using var model = Trained();
        model.eval();
        using var _ = no_grad();
        var input = AstFixtures.ReadNpy("input.npy");
        var state = model.state_dict();
        var normed = nn.functional.layer_norm(model.Embed(input), [64], state["mlp_head.0.weight"], state["mlp_head.0.bias"], HuggingFaceAst.ExportLayerNormEps);
        var theirs = nn.functional.linear(normed, state["mlp_head.1.weight"], state["mlp_head.1.bias"]);
        double error = (theirs - model.forward(input)).abs().max().item<float>();
        output.WriteLine($"max |logit(eps 1e-6) − logit(eps 1e-5)| = {error:E2}");
        Assert.True(error < 1e-4, $"{error}");
    }

    [Theory]
    [InlineData("qkv_bias", "false", "qkv_bias = false")]
    [InlineData("hidden_act", "\"relu\"", "hidden_act = 'relu'")]
    [InlineData("intermediate_size", "100", "intermediate_size = 100")]
    [InlineData("hidden_size", "\"wide\"", "'hidden_size' must be an integer")]
    public void ConfigFieldsThisModelCannotComputeAreNamed(string field, string value, string reason)
    {
        using var model = Trained();
        var folder = Export(model);
        var path = Path.Combine(folder, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config[field] = JsonNode.Parse(value);
        File.WriteAllText(path, config.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => HuggingFaceAst.Read(folder));
        Assert.Contains(reason, error.Message);
        Assert.StartsWith(path, error.Message);
    }

    static JsonObject SafetensorsHeader(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BitConverter.ToUInt64(bytes, 0);
        return JsonNode.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, length))!.AsObject();
    }
}
