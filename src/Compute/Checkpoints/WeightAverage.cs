using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Checkpoints;

/// <summary>
/// The AST reference's weight averaging (traintest.py's <c>validate_wa</c>: the state dicts of epochs wa_start…wa_end
/// summed key by key and divided by their count) on checkpoint files: each input verified (its own SHA-256, and the hash
/// the journal committed for it), their model geometry and tensor lists required equal, and every floating-point weight
/// averaged element by element — summed in float64 in the inputs' order and rounded once, where the reference sums in
/// float32 (the two differ by float32 rounding, ≤ 1 ulp per addition). The output is a checkpoint file like any other,
/// written atomically, with the last input's head (geometry, training position, manifest) and no optimiser state: it is
/// for scoring, exporting and starting new runs from, not for going on training. Streamed, tensor by tensor in chunks:
/// memory is one chunk per input, whatever the model's size, and no torch tensor is made (nothing native is called).
/// </summary>
public static class WeightAverage
{
    const int ChunkElements = 1 << 18;

    /// <summary>Averages <paramref name="inputs"/> (each with the SHA-256 it must have, or null) into
    /// <paramref name="output"/> and returns the output's SHA-256.</summary>
    /// <exception cref="CheckpointCorruptException">An input does not verify or is not the committed file.</exception>
    /// <exception cref="ArgumentException">The inputs are not checkpoints of one model.</exception>
    public static string Write(IReadOnlyList<(string Path, string? Sha256)> inputs, string output)
    {
        if (inputs.Count == 0) throw new ArgumentException("no checkpoint to average", nameof(inputs));
        foreach (var (path, expected) in inputs)
        {
            var sha = CheckpointFile.Verify(path);
            if (expected is not null && !string.Equals(sha, expected, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointCorruptException(path, $"SHA-256 {sha} is not the committed {expected}");
        }
        var readers = new List<BinaryReader>();
        try
        {
            var heads = new List<CheckpointFile.Head>();
            foreach (var (path, _) in inputs)
            {
                var reader = CheckpointFile.Open(path);
                readers.Add(reader);
                heads.Add(CheckpointFile.ReadHead(path, reader));
            }
            var last = heads[^1];
            for (int i = 0; i < heads.Count - 1; i++)
            {
                if (heads[i].Geometry != last.Geometry)
                    throw new ArgumentException($"{inputs[i].Path}: a checkpoint of {heads[i].Geometry}, not of {last.Geometry} as {inputs[^1].Path}: weights of different models are not averaged");
                if (!heads[i].Weights.Select(Describe).SequenceEqual(last.Weights.Select(Describe)))
                    throw new ArgumentException($"{inputs[i].Path}: its tensors are not those of {inputs[^1].Path}");
            }
            var head = last with { OptimizerSteps = 0, OptimizerState = [] };
            return CheckpointFile.SaveAtomically(output, file => CheckpointFile.Write(file, head, stream =>
            {
                foreach (var entry in head.Weights) Average(entry, readers, stream, inputs);
            }));
        }
        finally
        {
            foreach (var reader in readers) reader.Dispose();
        }
    }

    static string Describe(CheckpointFile.TensorEntry e) => $"{e.Name}:{e.DType}[{string.Join(",", e.Shape)}]";

    /// <summary>One tensor of every input (each reader at its start) averaged into <paramref name="output"/>.</summary>
    static void Average(CheckpointFile.TensorEntry entry, IReadOnlyList<BinaryReader> readers, Stream output,
        IReadOnlyList<(string Path, string? Sha256)> inputs)
    {
        long elements = entry.Shape.Aggregate(1L, (a, b) => a * b);
        int size = ElementSize(entry);
        var bytes = new byte[(int)Math.Min(elements, ChunkElements) * size];
        var sum = new double[Math.Min(elements, ChunkElements)];
        for (long done = 0; done < elements; done += ChunkElements)
        {
            int n = (int)Math.Min(ChunkElements, elements - done);
            var chunk = bytes.AsSpan(0, n * size);
            if (entry.DType is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16))
            {
                // integer and boolean buffers are not points to average: the last checkpoint's are kept
                for (int i = 0; i < readers.Count; i++) Read(readers[i], chunk, inputs[i].Path, entry);
                output.Write(chunk);
                continue;
            }
            Array.Clear(sum, 0, n);
            for (int i = 0; i < readers.Count; i++)
            {
                Read(readers[i], chunk, inputs[i].Path, entry);
                switch (entry.DType)
                {
                    case ScalarType.Float32:
                        var f = MemoryMarshal.Cast<byte, float>(chunk);
                        for (int k = 0; k < n; k++) sum[k] += f[k];
                        break;
                    case ScalarType.Float64:
                        var d = MemoryMarshal.Cast<byte, double>(chunk);
                        for (int k = 0; k < n; k++) sum[k] += d[k];
                        break;
                    default:
                        var h = MemoryMarshal.Cast<byte, Half>(chunk);
                        for (int k = 0; k < n; k++) sum[k] += (double)h[k];
                        break;
                }
            }
            double count = readers.Count;
            switch (entry.DType)
            {
                case ScalarType.Float32:
                    var f = MemoryMarshal.Cast<byte, float>(chunk);
                    for (int k = 0; k < n; k++) f[k] = (float)(sum[k] / count);
                    break;
                case ScalarType.Float64:
                    var d = MemoryMarshal.Cast<byte, double>(chunk);
                    for (int k = 0; k < n; k++) d[k] = sum[k] / count;
                    break;
                default:
                    var h = MemoryMarshal.Cast<byte, Half>(chunk);
                    for (int k = 0; k < n; k++) h[k] = (Half)(sum[k] / count);
                    break;
            }
            output.Write(chunk);
        }
    }

    static void Read(BinaryReader reader, Span<byte> into, string path, CheckpointFile.TensorEntry entry)
    {
        try { reader.BaseStream.ReadExactly(into); }
        catch (EndOfStreamException e) { throw new CheckpointCorruptException(path, $"tensor {entry.Name} cut short: {e.Message}", e); }
    }

    static int ElementSize(CheckpointFile.TensorEntry e) => e.DType switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.Int16 => 2,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        _ => throw new ArgumentException($"tensor {e.Name}: weights of type {e.DType} are not averaged"),
    };
}
