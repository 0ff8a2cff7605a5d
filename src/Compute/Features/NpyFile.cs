using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ActorTraining.Compute.Features;

/// <summary>
/// NumPy .npy v1/v2 for little-endian float32 arrays (what `features` writes and the torchaudio fixtures hold).
/// Also reads float64 (converted) so fixtures written by other tools load.
/// </summary>
public static partial class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write(string path, float[] data, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length) throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {count} values, data has {data.Length}");
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n"; // header block aligned to 64 bytes
        var tmp = path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            f.Write(Magic);
            f.Write([1, 0]);
            Span<byte> len = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
            f.Write(len);
            f.Write(Encoding.ASCII.GetBytes(header));
            var bytes = new byte[data.Length * 4];
            for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), data[i]);
            f.Write(bytes);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static (float[] Data, long[] Shape) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a .npy file");
        int major = bytes[6];
        int headerLength, offset;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); offset = 10; }
        else { headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)); offset = 12; }
        var header = Encoding.ASCII.GetString(bytes, offset, headerLength);
        var descr = DescrPattern().Match(header).Groups[1].Value;
        if (FortranPattern().Match(header).Groups[1].Value != "False") throw new InvalidDataException($"{path}: fortran_order arrays are not supported");
        var shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var body = bytes.AsSpan(offset + headerLength);
        var data = new float[count];
        switch (descr)
        {
            case "<f4":
                if (body.Length < count * 4) throw new InvalidDataException($"{path}: truncated data");
                for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(body[(4 * i)..]);
                break;
            case "<f8":
                if (body.Length < count * 8) throw new InvalidDataException($"{path}: truncated data");
                for (int i = 0; i < count; i++) data[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(body[(8 * i)..]);
                break;
            default:
                throw new InvalidDataException($"{path}: dtype '{descr}' not supported (float32/float64 little-endian only)");
        }
        return (data, shape);
    }

    [GeneratedRegex(@"'descr':\s*'([^']*)'")] private static partial Regex DescrPattern();
    [GeneratedRegex(@"'fortran_order':\s*(\w+)")] private static partial Regex FortranPattern();
    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")] private static partial Regex ShapePattern();
}
