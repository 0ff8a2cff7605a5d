using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

/// <summary>Files made by tests/fixtures/&lt;folder&gt;/make_fixture.py (Debian python3-torch 1.13): ast (the default), htsat.</summary>
internal static class AstFixtures
{
    public static string Path(string name, string folder = "ast")
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "fixtures", folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"fixture tests/fixtures/{folder}/{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A little-endian float32, C-order .npy array (what make_fixture.py writes).</summary>
    public static Tensor ReadNpy(string name, string folder = "ast")
    {
        var bytes = File.ReadAllBytes(Path(name, folder));
        int headerLength = bytes[8] | bytes[9] << 8;
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        if (!header.Contains("'descr': '<f4'") || !header.Contains("'fortran_order': False"))
            throw new InvalidDataException($"{name}: expected a <f4 C-order array, header {header}");
        var shape = Regex.Match(header, @"'shape': \(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        var tensor = empty(shape, float32);
        tensor.bytes = bytes.AsSpan(10 + headerLength);
        return tensor;
    }
}
