using System.Security.Cryptography;
using System.Text.Json.Serialization;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Model;

/// <summary>Where a run's first phase takes its weights from (<c>model.init</c>).</summary>
public enum ModelInitKind
{
    /// <summary>An ImageNet DeiT (distilled) checkpoint, adapted as the AST reference's <c>imagenet_pretrain</c>.</summary>
    DeiT,
    /// <summary>A reference AST checkpoint (<c>.pth</c> of YuanGongND/ast, with or without <c>module.</c>), e.g. AudioSet's,
    /// or a reference SSAST pretraining checkpoint (YuanGongND/ssast, e.g. SSAST-Base-Patch-400.pth): its encoder.</summary>
    Ast,
    /// <summary>A Hugging Face folder: <c>config.json</c> + <c>model.safetensors</c> of <c>ASTForAudioClassification</c>/<c>ASTModel</c>.</summary>
    HuggingFace,
    /// <summary>One of our own checkpoint files.</summary>
    Checkpoint,
    /// <summary>A reference HTS-AT checkpoint (RetroCirce/HTS-Audio-Transformer: a Lightning <c>.ckpt</c> or a plain state dict).</summary>
    Htsat,
}

/// <summary>
/// <c>model.init = deit:&lt;file&gt; | ast:&lt;file&gt; | hf:&lt;folder&gt; | checkpoint:&lt;file&gt; | htsat:&lt;file&gt;</c> (absent or <c>none</c>: weights
/// drawn from the run's seed). <paramref name="Sha256"/> is the content's hash, taken when the configuration is read:
/// it is part of the run's identity (the path is not — the same weights moved elsewhere are the same run), and the
/// trainer refuses a file whose content changed since (a resumed run would otherwise restart phase 0 elsewhere).
/// </summary>
public sealed record ModelInit(ModelInitKind Kind, string Path, string Sha256)
{
    public const string Key = "model.init";
    static readonly (string Prefix, ModelInitKind Kind)[] Prefixes =
        [("deit:", ModelInitKind.DeiT), ("ast:", ModelInitKind.Ast), ("hf:", ModelInitKind.HuggingFace), ("checkpoint:", ModelInitKind.Checkpoint), ("htsat:", ModelInitKind.Htsat)];

    /// <summary>The files whose bytes are the weights: the folder's config.json and weights for hf, else the file.</summary>
    [JsonIgnore] public IReadOnlyList<string> ContentFiles => Kind == ModelInitKind.HuggingFace
        ? [System.IO.Path.Combine(Path, "config.json"), HuggingFaceAst.WeightsFile(Path)]
        : [Path];

    /// <summary>Parses the setting (null for none); relative paths resolve against <paramref name="baseDirectory"/>.
    /// Throws <see cref="ConfigException"/> naming <c>model.init</c> for an unknown form or a missing file.</summary>
    public static ModelInit? Parse(string value, string baseDirectory)
    {
        var v = value.Trim();
        if (v.Length == 0 || v == "none") return null;
        foreach (var (prefix, kind) in Prefixes)
        {
            if (!v.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var given = v[prefix.Length..].Trim();
            if (given.Length == 0) throw new ConfigException(Key, $"'{v}' names no {(kind == ModelInitKind.HuggingFace ? "folder" : "file")}");
            var path = System.IO.Path.GetFullPath(given, baseDirectory);
            if (kind == ModelInitKind.HuggingFace)
            {
                if (!Directory.Exists(path)) throw new ConfigException(Key, $"{path}: no such folder");
                if (!File.Exists(System.IO.Path.Combine(path, "config.json"))) throw new ConfigException(Key, $"{path}: has no config.json (a Hugging Face model folder is expected)");
                if (!File.Exists(HuggingFaceAst.WeightsFile(path))) throw new ConfigException(Key, $"{path}: has neither model.safetensors nor pytorch_model.bin");
            }
            else if (!File.Exists(path)) throw new ConfigException(Key, $"{path}: no such file");
            var init = new ModelInit(kind, path, "");
            return init with { Sha256 = init.ContentHash() };
        }
        throw new ConfigException(Key, $"must be none, deit:<file>, ast:<file>, hf:<folder>, checkpoint:<file> or htsat:<file>, got '{v}'");
    }

    /// <summary>Throws naming the file when its content is no longer the one the run was configured with (a resumed run
    /// would otherwise restart phase 0 from other weights).</summary>
    public void RequireUnchanged()
    {
        var hash = ContentHash();
        if (hash != Sha256)
            throw new InvalidDataException($"{Path}: {Key} changed since the run was configured (SHA-256 {hash[..12]}, the run's {Sha256[..12]}); " +
                "start a new run directory to train from the new weights");
    }

    /// <summary>SHA-256 over the content files in order (streamed: a base model's 350 MB are read once, ~1 s).</summary>
    public string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in ContentFiles)
        {
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer)) > 0) hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public override string ToString() => $"{Prefixes.First(p => p.Kind == Kind).Prefix}{Path}";
}
