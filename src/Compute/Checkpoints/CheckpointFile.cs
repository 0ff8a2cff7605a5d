using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Checkpoints;

/// <summary>What a verified checkpoint says before any weights are loaded: enough to build the right model.
/// <paramref name="Manifest"/> is the caller's description stored with it (the run's manifest JSON), covered by the hash.</summary>
public sealed record CheckpointHeader(ModelGeometry Model, TrainingCheckpointInfo Info, string Manifest, string Sha256);

/// <summary>
/// One file per checkpoint, written and read as a stream (no whole-file buffer, 64-bit lengths, so a model of any
/// size fits): magic, format version, a JSON head (model geometry, training position, the caller's manifest, the
/// optimiser's step count and the list of tensors: name, dtype, shape), the tensors' raw bytes in that order (the
/// model's state dict, then the optimiser's), then the SHA-256 of everything before it (32 bytes). Written
/// atomically: temporary file, fsync, rename over the target, fsync the directory. Read: the whole file's hash is
/// checked first (streamed), then the head and the tensors, each read straight into its destination.
/// </summary>
public static class CheckpointFile
{
    private const string Magic = "ACTRAINING-CKPT";
    private const int FormatVersion = 2;
    private const int HashLength = 32;
    internal const int CopyBuffer = 1 << 20;

    internal sealed record TensorEntry(string Name, ScalarType DType, long[] Shape);

    // Model: an AST's geometry (null for an HTS-AT, whose geometry is Htsat — absent from every AST head, so those stay
    // as they were written before HTS-AT). Pretraining: the AST is SSAST's pretraining model (absent when false, likewise).
    internal sealed record Head(AstConfig? Model, TrainingCheckpointInfo Info, string Manifest, long OptimizerSteps,
        TensorEntry[] Weights, TensorEntry[] OptimizerState,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] HtsatConfig? Htsat = null,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] SsastPretext? Pretext = null)
    {
        public ModelGeometry Geometry => new(Model, Htsat, Pretext);
    }

    /// <summary>Writes the checkpoint atomically and returns its SHA-256 (lower-case hex).</summary>
    public static string Save(string path, AudioModel model, AdamOptimizer optimizer, TrainingCheckpointInfo info, string manifest = "") =>
        SaveAtomically(path, file => Write(file, model, optimizer, info, manifest));

    /// <summary>Writes through <paramref name="write"/> to a temporary file, fsyncs it, renames it over
    /// <paramref name="path"/> and fsyncs the directory; returns what <paramref name="write"/> returned (the hash).</summary>
    internal static string SaveAtomically(string path, Func<Stream, string> write)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temporary = fullPath + ".tmp";
        string sha;
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, CopyBuffer))
        {
            sha = write(file);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, fullPath, overwrite: true);
        FsyncDirectory(directory);
        return sha;
    }

    /// <summary>
    /// Writes the checkpoint's bytes — exactly a checkpoint file's — to <paramref name="output"/> as they are produced
    /// (a file, or a joining rank's connection) and returns their SHA-256.
    /// </summary>
    public static string Write(Stream output, AudioModel model, AdamOptimizer optimizer, TrainingCheckpointInfo info, string manifest = "")
    {
        var weights = model.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();
        var state = optimizer.StateTensors().ToList();
        var head = new Head(model.Geometry.Ast, info, manifest, optimizer.Steps, Entries(weights), Entries(state), model.Geometry.Htsat, model.Geometry.Pretext);
        return Write(output, head, hashing => { foreach (var (_, tensor) in weights.Concat(state)) WriteTensor(tensor, hashing); });
    }

    /// <summary>A checkpoint of <paramref name="head"/> whose tensors' bytes <paramref name="tensors"/> writes, in the head's order.</summary>
    internal static string Write(Stream output, Head head, Action<Stream> tensors)
    {
        byte[] hash;
        using (var hashing = new HashingStream(output))
        {
            using (var writer = new BinaryWriter(hashing, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(JsonSerializer.Serialize(head));
            }
            tensors(hashing);
            hash = hashing.Hash();
        }
        output.Write(hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Verifies the file and returns its model configuration, training position and manifest.</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        var sha = Verify(path);
        using var reader = Open(path);
        var head = ReadHead(path, reader);
        return new CheckpointHeader(head.Geometry, head.Info, head.Manifest, sha);
    }

    /// <summary>
    /// Verifies the file, loads weights into <paramref name="model"/> (whose Config must equal the stored one) and,
    /// when given, state into <paramref name="optimizer"/> (same parameters), and returns the training position.
    /// </summary>
    public static TrainingCheckpointInfo Load(string path, AudioModel model, AdamOptimizer? optimizer)
    {
        Verify(path);
        using var reader = Open(path);
        var head = ReadHead(path, reader);
        if (head.Geometry != model.Geometry)
            throw new ArgumentException($"{path}: checkpoint is for {head.Geometry}, the model is {model.Geometry}", nameof(model));
        try
        {
            ReadInto(path, reader.BaseStream, head.Weights, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), "model");
            if (optimizer is not null)
            {
                ReadInto(path, reader.BaseStream, head.OptimizerState, optimizer.StateTensors().ToDictionary(t => t.Name, t => t.Tensor), "optimiser");
                optimizer.RestoreSteps(head.OptimizerSteps);
            }
        }
        catch (EndOfStreamException e) { throw new CheckpointCorruptException(path, $"weights or optimiser state cut short: {e.Message}", e); }
        return head.Info;
    }

    private static TensorEntry[] Entries(IEnumerable<(string Name, Tensor Tensor)> tensors) =>
        tensors.Select(t => new TensorEntry(t.Name, t.Tensor.dtype, t.Tensor.shape)).ToArray();

    // Device-independent: a tensor on another device is copied to the CPU (one tensor at a time) before writing.
    private static void WriteTensor(Tensor tensor, Stream output)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.detach().cpu().contiguous();
        cpu.WriteBytesToStream(output, CopyBuffer);
    }

    private static void ReadInto(string path, Stream input, TensorEntry[] stored, Dictionary<string, Tensor> targets, string what)
    {
        var expected = targets.Keys.Order(StringComparer.Ordinal).ToList();
        var found = stored.Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        if (!expected.SequenceEqual(found))
            throw new ArgumentException($"{path}: the checkpoint's {what} tensors ({string.Join(", ", found.Except(expected).Concat(expected.Except(found)).Take(5))} differ) do not match");
        using var noGrad = no_grad();
        foreach (var entry in stored)
        {
            var target = targets[entry.Name];
            if (target.dtype != entry.DType || !target.shape.SequenceEqual(entry.Shape))
                throw new ArgumentException($"{path}: {what} tensor {entry.Name} is {entry.DType}[{string.Join(", ", entry.Shape)}] in the checkpoint, [{string.Join(", ", target.shape)}] {target.dtype} in the model");
            if (target.device_type == DeviceType.CPU && target.is_contiguous()) { target.ReadBytesFromStream(input, CopyBuffer); continue; }
            using var staging = empty(entry.Shape, entry.DType);
            staging.ReadBytesFromStream(input, CopyBuffer);
            target.copy_(staging);
        }
    }

    // Files this process verified, by path, with the length and modification time they had then: reading a checkpoint
    // (its manifest, its header, its weights) verified the whole file once per step — 3 to 4 passes over a file of a
    // gigabyte for one `evaluate` of an AST-base checkpoint with its optimiser state. A file written since (any
    // rewrite changes the time, kept to 100 ns) is verified again.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Length, long Ticks, string Sha)> Verified = new();

    // The stored hash against the content's, streamed.
    internal static string Verify(string path)
    {
        if (Data.InputFile.Problem(path) is { } problem) throw new CheckpointCorruptException(path, problem);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint", path);
        var full = Path.GetFullPath(path);
        var before = new FileInfo(full);
        if (Verified.TryGetValue(full, out var known) && known.Length == before.Length && known.Ticks == before.LastWriteTimeUtc.Ticks) return known.Sha;
        var sha = VerifyContent(path);
        Verified[full] = (before.Length, before.LastWriteTimeUtc.Ticks, sha);
        return sha;
    }

    private static string VerifyContent(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBuffer);
        long length = file.Length;
        if (length <= HashLength + Magic.Length) throw new CheckpointCorruptException(path, $"truncated ({length} bytes)");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[CopyBuffer];
        for (long left = length - HashLength; left > 0;)
        {
            int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) throw new CheckpointCorruptException(path, "changed while it was read");
            sha.AppendData(buffer, 0, n);
            left -= n;
        }
        var stored = new byte[HashLength];
        file.ReadExactly(stored);
        var actual = sha.GetHashAndReset();
        if (!actual.AsSpan().SequenceEqual(stored))
            throw new CheckpointCorruptException(path,
                $"SHA-256 mismatch (stored {Convert.ToHexStringLower(stored)}, content {Convert.ToHexStringLower(actual)}): truncated or modified");
        return Convert.ToHexStringLower(stored);
    }

    internal static BinaryReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBuffer), System.Text.Encoding.UTF8);

    internal static Head ReadHead(string path, BinaryReader reader)
    {
        try
        {
            if (reader.ReadString() != Magic) throw new CheckpointCorruptException(path, "not an ActorTraining checkpoint");
            int version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new CheckpointCorruptException(path, version == 1
                    ? "format version 1 (written by ActorTraining before streamed checkpoints); this build reads version 2 only — retrain, or evaluate it with the build that wrote it"
                    : $"format version {version}, expected {FormatVersion}");
            return JsonSerializer.Deserialize<Head>(reader.ReadString()) ?? throw new JsonException("empty head");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new CheckpointCorruptException(path, $"header unreadable: {e.Message}", e);
        }
    }

    /// <summary>Writes through to a stream and hashes what passed (SHA-256).</summary>
    private sealed class HashingStream(Stream inner) : Runtime.WriteOnlyStream
    {
        readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => _sha.GetHashAndReset();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();

        // leaves the inner stream open: the hash follows the content on it
        protected override void Dispose(bool disposing)
        {
            if (disposing) _sha.Dispose();
            base.Dispose(disposing);
        }
    }

    // A rename is durable only once the directory entry is on disk.
    private static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { fsync(fd); } finally { close(fd); }
    }

    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int fsync(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
