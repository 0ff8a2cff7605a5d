using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>Import/export of AST weights in PyTorch formats, and the reference's ImageNet DeiT adaptation.</summary>
public static class AstWeights
{
    /// <summary>
    /// Loads an AST state dict saved by the reference (.pth via torch.save, with or without DataParallel's
    /// `module.` prefix) or a .safetensors file. Keys and shapes must match the model exactly.
    /// </summary>
    public static void LoadPyTorch(AstModel model, string pthOrSafetensors)
    {
        var state = StripPrefix(ReadAny(pthOrSafetensors), "module.");
        Assign(model, state, pthOrSafetensors);
    }

    public static void SaveSafetensors(AstModel model, string path) => SafetensorsFile.Write(path, model.state_dict());

    /// <summary>A state dict Python loads with torch.load (zip format, keys as the reference).</summary>
    public static void SavePyTorch(AstModel model, string path) => model.save_py(path);

    /// <summary>
    /// Initialises the backbone from an ImageNet DeiT (distilled) checkpoint as ast_models.py does with
    /// imagenet_pretrain: patch weights summed over RGB; positional grid (e.g. 24×24) adapted time axis first —
    /// centre-crop if t_dim ≤ grid else bilinear — then frequency the same way; cls/dist kept. head/head_dist
    /// are ignored and mlp_head keeps its initialisation. A patch shape other than 16×16 is PI-resized.
    /// </summary>
    public static void LoadDeiT(AstModel model, string path)
    {
        var source = StripPrefix(ReadAny(path), "module.");
        var config = model.Config;
        var target = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        foreach (var key in model.state_dict().Keys.Where(k => k.StartsWith("v.", StringComparison.Ordinal)))
        {
            string sourceKey = key[2..];
            if (!source.TryGetValue(sourceKey, out var value))
                throw new InvalidDataException($"{path}: DeiT checkpoint has no '{sourceKey}' (needed for '{key}'; a distilled DeiT is required)");
            target[key] = key switch
            {
                "v.patch_embed.proj.weight" => AdaptPatchKernel(value, config),
                "v.pos_embed" => AdaptPosEmbed(value, config, path),
                _ => value,
            };
        }
        Assign(model, target, path, partial: true);
    }

    private static Tensor AdaptPatchKernel(Tensor rgb, AstConfig config)
    {
        var mono = rgb.sum(dim: 1, keepdim: true);
        return mono.shape[2] == config.PatchF && mono.shape[3] == config.PatchT
            ? mono
            : PiResize.Resize(mono, config.PatchF, config.PatchT);
    }

    private static Tensor AdaptPosEmbed(Tensor pos, AstConfig config, string path)
    {
        long dim = pos.shape[2], gridTokens = pos.shape[1] - 2;
        int hw = (int)Math.Round(Math.Sqrt(gridTokens));
        if (hw * hw != gridTokens)
            throw new InvalidDataException($"{path}: pos_embed has {gridTokens} grid positions, not a square grid");
        var grid = pos[.., 2..].transpose(1, 2).reshape(1, dim, hw, hw);
        int f = config.FDim, t = config.TDim;
        grid = t <= hw
            ? grid[.., .., .., (hw / 2 - t / 2)..(hw / 2 - t / 2 + t)]
            : nn.functional.interpolate(grid, new long[] { hw, t }, mode: InterpolationMode.Bilinear, align_corners: false);
        grid = f <= hw
            ? grid[.., .., (hw / 2 - f / 2)..(hw / 2 - f / 2 + f), ..]
            : nn.functional.interpolate(grid, new long[] { f, t }, mode: InterpolationMode.Bilinear, align_corners: false);
        return cat(new[] { pos[.., ..2], grid.reshape(1, dim, f * t).transpose(1, 2) }, dim: 1);
    }

    private static Dictionary<string, Tensor> ReadAny(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such weights file", path);
        return path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            ? SafetensorsFile.Read(path)
            : PyTorchStateDict.Read(path);
    }

    private static Dictionary<string, Tensor> StripPrefix(Dictionary<string, Tensor> state, string prefix) =>
        state.Count > 0 && state.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal))
            ? state.ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value)
            : state;

    private static void Assign(AstModel model, Dictionary<string, Tensor> source, string path, bool partial = false)
    {
        var destination = model.state_dict();
        var missing = destination.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !destination.ContainsKey(k)).ToList();
        if ((!partial && missing.Count > 0) || unexpected.Count > 0)
            throw new InvalidDataException($"{path}: state dict does not match the AST ({model.Config}): " +
                $"missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
        foreach (var (key, value) in source)
            if (!value.shape.SequenceEqual(destination[key].shape))
                throw new InvalidDataException($"{path}: '{key}' has shape [{string.Join(", ", value.shape)}], the model needs [{string.Join(", ", destination[key].shape)}]");
        using var noGrad = no_grad();
        foreach (var (key, value) in source)
            destination[key].copy_(value.to(destination[key].dtype));
    }
}
