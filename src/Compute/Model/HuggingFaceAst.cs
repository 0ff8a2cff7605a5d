using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ActorTraining.Compute.Training;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// The Hugging Face form of an AST (transformers' <c>ASTForAudioClassification</c> / <c>ASTModel</c>, model_type
/// <c>audio-spectrogram-transformer</c>): a folder of <c>config.json</c> + <c>model.safetensors</c> (+ the feature
/// extractor's <c>preprocessor_config.json</c>). Key names map both ways as transformers' own conversion script does
/// (convert_audio_spectrogram_transformer_original_to_pytorch.py): timm's fused <c>qkv</c> splits into
/// query/key/value, <c>blocks</c> → <c>encoder.layer</c>, <c>norm1/2</c> → <c>layernorm_before/after</c>,
/// <c>mlp_head.0/1</c> → <c>classifier.layernorm/dense</c>.
/// </summary>
public static partial class HuggingFaceAst
{
    public const string Prefix = "audio_spectrogram_transformer.";

    /// <summary>One LayerNorm epsilon in transformers' config; ours are the reference's: 1e-6 in the backbone, PyTorch's
    /// default 1e-5 in the head. Export writes the backbone's (the head's LayerNorm then differs by 9e-6 in its
    /// variance term: logits move by 5.7e-6 on the reference fixture); import ignores it, as transformers' own conversion (1e-12) does.</summary>
    public const double ExportLayerNormEps = 1e-6;

    // (ours, theirs) for every key that is a plain rename; {0} is the block index
    static readonly (string Ours, string Theirs)[] Renames =
    [
        ("v.cls_token", Prefix + "embeddings.cls_token"),
        ("v.dist_token", Prefix + "embeddings.distillation_token"),
        ("v.pos_embed", Prefix + "embeddings.position_embeddings"),
        ("v.patch_embed.proj.weight", Prefix + "embeddings.patch_embeddings.projection.weight"),
        ("v.patch_embed.proj.bias", Prefix + "embeddings.patch_embeddings.projection.bias"),
        ("v.norm.weight", Prefix + "layernorm.weight"),
        ("v.norm.bias", Prefix + "layernorm.bias"),
        ("mlp_head.0.weight", "classifier.layernorm.weight"),
        ("mlp_head.0.bias", "classifier.layernorm.bias"),
        ("mlp_head.1.weight", "classifier.dense.weight"),
        ("mlp_head.1.bias", "classifier.dense.bias"),
    ];

    static readonly (string Ours, string Theirs)[] BlockRenames =
    [
        ("norm1", "layernorm_before"),
        ("attn.proj", "attention.output.dense"),
        ("norm2", "layernorm_after"),
        ("mlp.fc1", "intermediate.dense"),
        ("mlp.fc2", "output.dense"),
    ];

    static readonly string[] QkvParts = ["query", "key", "value"];

    [GeneratedRegex(@"^v\.blocks\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex OurBlockKey();

    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex TheirBlockKey();

    /// <summary>The folder's weights: model.safetensors, or pytorch_model.bin when only that is there.</summary>
    public static string WeightsFile(string folder)
    {
        var safetensors = Path.Combine(folder, "model.safetensors");
        var bin = Path.Combine(folder, "pytorch_model.bin");
        return !File.Exists(safetensors) && File.Exists(bin) ? bin : safetensors;
    }

    /// <summary>Our state dict in transformers' names (q/k/v split from qkv; views, not copies).</summary>
    public static Dictionary<string, Tensor> ToHuggingFace(IEnumerable<KeyValuePair<string, Tensor>> ours)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, value) in ours)
        {
            var plain = Renames.FirstOrDefault(r => r.Ours == key);
            if (plain.Ours is not null) { result[plain.Theirs] = value; continue; }
            var m = OurBlockKey().Match(key);
            if (!m.Success) throw new ArgumentException($"'{key}' is not an AST key transformers has a name for");
            string layer = $"{Prefix}encoder.layer.{m.Groups[1].Value}.", part = m.Groups[2].Value, kind = m.Groups[3].Value;
            if (part == "attn.qkv")
            {
                long dim = value.shape[0] / 3;
                for (int i = 0; i < 3; i++) result[$"{layer}attention.attention.{QkvParts[i]}.{kind}"] = value.narrow(0, i * dim, dim);
                continue;
            }
            var rename = BlockRenames.FirstOrDefault(r => r.Ours == part);
            if (rename.Ours is null) throw new ArgumentException($"'{key}' is not an AST key transformers has a name for");
            result[$"{layer}{rename.Theirs}.{kind}"] = value;
        }
        return result;
    }

    /// <summary>
    /// Transformers' state dict in our names (q/k/v concatenated into qkv). Keys of a bare <c>ASTModel</c> (no
    /// <c>audio_spectrogram_transformer.</c> prefix, no classifier) are accepted; a key we have no name for is an error
    /// naming it and <paramref name="origin"/>.
    /// </summary>
    public static Dictionary<string, Tensor> FromHuggingFace(IReadOnlyDictionary<string, Tensor> theirs, string origin)
    {
        bool bare = !theirs.Keys.Any(k => k.StartsWith(Prefix, StringComparison.Ordinal));
        var result = new Dictionary<string, Tensor>();
        var qkv = new SortedDictionary<(int Layer, string Kind), Tensor?[]>();
        foreach (var (rawKey, value) in theirs)
        {
            var key = bare && !rawKey.StartsWith("classifier.", StringComparison.Ordinal) ? Prefix + rawKey : rawKey;
            var plain = Renames.FirstOrDefault(r => r.Theirs == key);
            if (plain.Theirs is not null) { result[plain.Ours] = value; continue; }
            var m = key.StartsWith(Prefix, StringComparison.Ordinal) ? TheirBlockKey().Match(key[Prefix.Length..]) : Match.Empty;
            if (!m.Success) throw new InvalidDataException($"{origin}: '{rawKey}' is not a key of transformers' AST");
            int layer = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            string part = m.Groups[2].Value, kind = m.Groups[3].Value;
            int q = Array.IndexOf(QkvParts, part.StartsWith("attention.attention.", StringComparison.Ordinal) ? part["attention.attention.".Length..] : "");
            if (q >= 0)
            {
                if (!qkv.TryGetValue((layer, kind), out var parts)) qkv[(layer, kind)] = parts = new Tensor?[3];
                parts[q] = value;
                continue;
            }
            var rename = BlockRenames.FirstOrDefault(r => r.Theirs == part);
            if (rename.Theirs is null) throw new InvalidDataException($"{origin}: '{rawKey}' is not a key of transformers' AST");
            result[$"v.blocks.{layer}.{rename.Ours}.{kind}"] = value;
        }
        foreach (var ((layer, kind), parts) in qkv)
        {
            if (parts.Any(p => p is null))
                throw new InvalidDataException($"{origin}: layer {layer} has {string.Join("/", QkvParts.Where((_, i) => parts[i] is not null))} {kind} but not all of query/key/value");
            result[$"v.blocks.{layer}.attn.qkv.{kind}"] = cat(parts!, dim: 0);
        }
        return result;
    }

    /// <summary>What a Hugging Face folder holds: the weights in our names, its geometry, and its labels when config.json has them.</summary>
    public sealed record Folder(Dictionary<string, Tensor> State, AstConfig Geometry, IReadOnlyList<string>? Labels);

    /// <summary>Reads config.json (honouring hidden size, depth, heads, patch size, strides, mel bins and max length)
    /// and the weights. A configuration our model cannot compute (qkv without bias, another activation, an MLP not
    /// 4 × wide) is an error naming the field.</summary>
    public static Folder Read(string folder)
    {
        var configPath = Path.Combine(folder, "config.json");
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? throw new InvalidDataException($"{configPath}: empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{configPath}: not a JSON object: {e.Message}", e); }

        int Int(string name, int? fallback = null)
        {
            var node = config[name];
            if (node is null)
                return fallback ?? throw new InvalidDataException($"{configPath}: '{name}' is missing");
            try { return node.GetValue<int>(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            { throw new InvalidDataException($"{configPath}: '{name}' must be an integer, got {node.ToJsonString()}"); }
        }
        if (config["model_type"]?.GetValue<string>() is { } type && type != "audio-spectrogram-transformer")
            throw new InvalidDataException($"{configPath}: model_type is '{type}', not audio-spectrogram-transformer");
        if (config["qkv_bias"] is { } bias && !bias.GetValue<bool>())
            throw new InvalidDataException($"{configPath}: qkv_bias = false; the AST reference (and this model) has biases on q, k and v");
        if (config["hidden_act"]?.GetValue<string>() is { } act && act != "gelu")
            throw new InvalidDataException($"{configPath}: hidden_act = '{act}'; this model computes gelu (erf), as the reference");
        // transformers' defaults (configuration_audio_spectrogram_transformer.py) for fields a config may leave out
        int hidden = Int("hidden_size", 768), heads = Int("num_attention_heads", 12);
        if (Int("intermediate_size", 3072) != 4 * hidden)
            throw new InvalidDataException($"{configPath}: intermediate_size = {Int("intermediate_size")}; this model's MLP is 4 × hidden_size = {4 * hidden}");

        var labels = config["id2label"] is JsonObject id2label
            ? Enumerable.Range(0, id2label.Count).Select(i => id2label[i.ToString(CultureInfo.InvariantCulture)]?.GetValue<string>()
                ?? throw new InvalidDataException($"{configPath}: id2label has no entry \"{i}\"")).ToList()
            : null;
        var weightsPath = WeightsFile(folder);
        var raw = weightsPath.EndsWith(".safetensors", StringComparison.Ordinal) ? SafetensorsFile.Read(weightsPath) : PyTorchStateDict.Read(weightsPath);
        var state = FromHuggingFace(raw, weightsPath);
        int classes = state.TryGetValue("mlp_head.1.weight", out var head) ? (int)head.shape[0] : labels?.Count ?? 1;
        int patch = Int("patch_size", 16);
        var geometry = new AstConfig(hidden, Int("num_hidden_layers", 12), heads, classes, MelBins: Int("num_mel_bins", 128),
            TargetLength: Int("max_length", 1024), PatchF: patch, PatchT: patch, FStride: Int("frequency_stride", 10), TStride: Int("time_stride", 10));
        try { geometry.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{configPath}: {e.Message}"); }
        return new Folder(state, geometry, labels);
    }

    /// <summary>The front end the model was trained with, for the feature extractor's preprocessor_config.json.</summary>
    public sealed record FeatureExtractor(int SampleRate, double Mean, double Std);

    /// <summary>
    /// Writes <paramref name="folder"/>/config.json, model.safetensors and preprocessor_config.json so that
    /// transformers' <c>ASTForAudioClassification.from_pretrained</c> and <c>ASTFeatureExtractor</c> load them. The model
    /// must have square patches (transformers has one patch_size).
    /// </summary>
    public static void Write(string folder, AstModel model, IReadOnlyList<string> labels, FeatureExtractor features)
    {
        var c = model.Config;
        if (c.PatchF != c.PatchT)
            throw new ArgumentException($"the model's patches are {c.PatchF}×{c.PatchT}; transformers' AST has square patches only (one patch_size)");
        if (c.Pooling != AstPooling.Cls)
            throw new ArgumentException($"the model pools {ConfigWord.Of(c.Pooling)} (model.pooling); transformers' ASTForAudioClassification " +
                "pools the cls and distillation tokens, so its logits would not be this model's. Export --format onnx, whose graph pools as the model does");
        if (labels.Count != c.NumClasses)
            throw new ArgumentException($"{labels.Count} labels for a model of {c.NumClasses} classes");
        Directory.CreateDirectory(folder);
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < labels.Count; i++)
        {
            id2label[i.ToString(CultureInfo.InvariantCulture)] = labels[i];
            label2id[labels[i]] = i;
        }
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("ASTForAudioClassification"),
            ["attention_probs_dropout_prob"] = 0.0,
            ["frequency_stride"] = c.FStride,
            ["hidden_act"] = "gelu",
            ["hidden_dropout_prob"] = 0.0,
            ["hidden_size"] = c.EmbedDim,
            ["id2label"] = id2label,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = 4 * c.EmbedDim,
            ["label2id"] = label2id,
            ["layer_norm_eps"] = ExportLayerNormEps,
            ["max_length"] = c.TargetLength,
            ["model_type"] = "audio-spectrogram-transformer",
            ["num_attention_heads"] = c.Heads,
            ["num_hidden_layers"] = c.Depth,
            ["num_mel_bins"] = c.MelBins,
            ["patch_size"] = c.PatchF,
            ["qkv_bias"] = true,
            ["time_stride"] = c.TStride,
            ["torch_dtype"] = "float32",
        };
        // ASTFeatureExtractor's fields: kaldi fbank at sampling_rate, padded/cut to max_length, (x − mean) / (2·std)
        var preprocessor = new JsonObject
        {
            ["feature_extractor_type"] = "ASTFeatureExtractor",
            ["feature_size"] = 1,
            ["sampling_rate"] = features.SampleRate,
            ["num_mel_bins"] = c.MelBins,
            ["max_length"] = c.TargetLength,
            ["padding_side"] = "right",
            ["padding_value"] = 0.0,
            ["do_normalize"] = true,
            ["mean"] = features.Mean,
            ["std"] = features.Std,
            ["return_attention_mask"] = false,
        };
        var indented = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(indented) + "\n");
        File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), preprocessor.ToJsonString(indented) + "\n");
        using var scope = NewDisposeScope();
        SafetensorsFile.Write(Path.Combine(folder, "model.safetensors"), ToHuggingFace(model.state_dict()), new Dictionary<string, string> { ["format"] = "pt" });
    }
}
