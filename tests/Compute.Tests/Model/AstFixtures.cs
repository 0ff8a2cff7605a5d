using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

/// <summary>Files made by tests/fixtures/ast/make_fixture.py (Debian python3-torch 1.13).</summary>
internal static class AstFixtures
{
    public static string Path(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "fixtures", "ast", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"fixture tests/fixtures/ast/{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A little-endian float32, C-order .npy array (what make_fixture.py writes).</summary>
    public static Tensor ReadNpy(string name)
    {
        var bytes = File.ReadAllBytes(Path(name));
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
