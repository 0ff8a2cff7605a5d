using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// The safetensors format (huggingface/safetensors): u64 little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes. Written here rather than
/// through TorchSharp.PyBridge because its reader/writer for raw dictionaries is internal.
/// </summary>
public static class SafetensorsFile
{
    private static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16, ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8, ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    public static Dictionary<string, Tensor> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: not a safetensors file (shorter than its 8-byte header length)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{path}: safetensors header length {headerLength} exceeds the file ({bytes.Length} bytes)");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{path}: safetensors header is not a JSON object: {e.Message}", e); }

        long dataStart = 8 + (long)headerLength;
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            string dtypeName = node?["dtype"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: tensor '{name}' has no dtype");
            if (!DTypes.TryGetValue(dtypeName, out var dtype)) throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype {dtypeName}");
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            long begin = dataStart + offsets[0], end = dataStart + offsets[1];
            var tensor = empty(shape, dtype);
            if (end > bytes.Length || end - begin != tensor.NumberOfElements * tensor.ElementSize)
                throw new InvalidDataException($"{path}: tensor '{name}' data_offsets [{offsets[0]}, {offsets[1]}] do not match its shape or the file size");
            tensor.bytes = bytes.AsSpan((int)begin, (int)(end - begin));
            result[name] = tensor;
        }
        return result;
    }

    /// <summary>Writes the tensors in order; <paramref name="metadata"/> becomes the header's <c>__metadata__</c>
    /// (transformers' loader expects <c>format = pt</c> there).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.Select(kv => (kv.Key, Tensor: kv.Value.detach().cpu().contiguous())).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        long offset = 0;
        foreach (var (name, tensor) in list)
        {
            long length = tensor.NumberOfElements * tensor.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DTypes.First(kv => kv.Value == tensor.dtype).Key,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + length),
            };
            offset += length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8-byte alignment
        using var stream = File.Create(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)padded);
        stream.Write(lengthBytes);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, tensor) in list) stream.Write(tensor.bytes);
    }
}
