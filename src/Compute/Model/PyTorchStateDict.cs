using System.Collections;
using System.Reflection;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// Reads a dictionary of tensors saved by Python's torch.save (zip format, PyTorch ≥ 1.6). TorchSharp.PyBridge
/// 1.4.4 only exposes load_py into a module with matching keys; AST files need renaming (DataParallel's
/// `module.` prefix) and reshaping (ImageNet DeiT), so this calls its internal unpickler by reflection. The
/// package version is pinned in Directory.Packages.props; a change there that breaks this fails loudly here.
/// </summary>
public static class PyTorchStateDict
{
    private static readonly Lazy<MethodInfo> Unpickle = new(() =>
        typeof(TorchSharp.PyBridge.PyBridgeModuleExtensions).Assembly
            .GetType("TorchSharp.PyBridge.PyTorchUnpickler")?
            .GetMethod("UnpickleStateDict", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
                new[] { typeof(Stream), typeof(bool), typeof(bool) })
        ?? throw new MissingMethodException("TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(Stream, bool, bool) not found; check the TorchSharp.PyBridge version"));

    /// <summary>Tensors by key. A checkpoint that wraps its state dict ({'model': …} or {'state_dict': …}) is unwrapped.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        using (var probe = File.OpenRead(path))
        {
            Span<byte> magic = stackalloc byte[4];
            if (probe.Read(magic) < 4 || magic[0] != 0x50 || magic[1] != 0x4b)
                throw new InvalidDataException($"{path}: not a torch.save zip archive (legacy pre-1.6 files must be re-saved with a current torch.save)");
        }
        Hashtable table;
        using (var stream = File.OpenRead(path))
        {
            try { table = (Hashtable)Unpickle.Value.Invoke(null, new object[] { stream, false, false })!; }
            catch (TargetInvocationException e) { throw new InvalidDataException($"{path}: cannot unpickle: {e.InnerException?.Message}", e.InnerException); }
        }
        return ToTensors(path, Unwrap(table));
    }

    private static Hashtable Unwrap(Hashtable table)
    {
        foreach (var wrapper in new[] { "model", "state_dict" })
            if (table[wrapper] is Hashtable inner && !table.Values.OfType<Tensor>().Any()) return inner;
        return table;
    }

    private static Dictionary<string, Tensor> ToTensors(string path, Hashtable table)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Value is Tensor tensor) result[(string)entry.Key] = tensor;
            else if (entry.Value is not null && entry.Value.GetType().GetMethod("ReadTensorFromStream") is { } read)
                result[(string)entry.Key] = (Tensor)read.Invoke(entry.Value, null)!;
        }
        if (result.Count == 0) throw new InvalidDataException($"{path}: contains no tensors");
        return result;
    }
}
