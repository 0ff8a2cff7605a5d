using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>Import/export of AST weights in PyTorch formats, and the reference's ImageNet DeiT adaptation.</summary>
public static class AstWeights
{
    /// <summary>
    /// Loads an AST state dict saved by the reference (.pth via torch.save, with or without DataParallel's
    /// `module.` prefix) or a .safetensors file. Keys and shapes must match the model exactly, but for timm's ImageNet
    /// heads <c>v.head</c> / <c>v.head_dist</c>, which the reference's model carries and never uses.
    /// </summary>
    public static void LoadPyTorch(AstModel model, string pthOrSafetensors)
    {
        var state = ReadStateDict(pthOrSafetensors).Where(kv => !IsUnusedTimmHead(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assign(model, state, pthOrSafetensors);
    }

    /// <summary>timm's ImageNet classifier heads inside the reference's <c>v</c> (its forward reads <c>mlp_head</c>).</summary>
    public static bool IsUnusedTimmHead(string key) =>
        key.StartsWith("v.head.", StringComparison.Ordinal) || key.StartsWith("v.head_dist.", StringComparison.Ordinal);

    public static void SaveSafetensors(AstModel model, string path) => SafetensorsFile.Write(path, model.state_dict());

    /// <summary>
    /// Initialises the backbone from an ImageNet DeiT (distilled) checkpoint as ast_models.py does with
    /// imagenet_pretrain (<see cref="PretrainedStart"/>): patch weights summed over RGB; positional grid (e.g. 24×24)
    /// adapted time axis first — centre-crop if t_dim ≤ grid else bilinear — then frequency the same way; cls/dist kept.
    /// head/head_dist are ignored and mlp_head keeps its initialisation. A patch shape other than 16×16 is PI-resized.
    /// </summary>
    public static void LoadDeiT(AstModel model, string path) => PretrainedStart.LoadDeiT(model, path);

    /// <summary>A .pth or .safetensors state dict by key, DataParallel's `module.` prefix removed.</summary>
    public static Dictionary<string, Tensor> ReadStateDict(string path) => StripPrefix(ReadAny(path), "module.");

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

    private static void Assign(AstModel model, Dictionary<string, Tensor> source, string path)
    {
        var destination = model.state_dict();
        var missing = destination.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !destination.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
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
