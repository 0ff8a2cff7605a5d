using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using ActorTraining.Compute.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Checkpoints;

/// <summary>What a verified checkpoint says before any weights are loaded: enough to build the right model.</summary>
public sealed record CheckpointHeader(AstConfig Model, TrainingCheckpointInfo Info, string Sha256);

/// <summary>
/// One file per checkpoint: magic, format version, AstConfig JSON, TrainingCheckpointInfo JSON, the model's
/// TorchSharp state dict, the optimiser's TorchSharp state dict, then the SHA-256 of everything before it
/// (32 bytes). Written atomically: temporary file, flush + fsync, rename over the target, fsync the directory.
/// </summary>
public static class CheckpointFile
{
    private const string Magic = "ACTRAINING-CKPT";
    private const int FormatVersion = 1;
    private const int HashLength = 32;

    /// <summary>Writes the checkpoint atomically and returns its SHA-256 (lower-case hex).</summary>
    public static string Save(string path, AstModel model, optim.Optimizer optimizer, TrainingCheckpointInfo info)
    {
        var helper = AsHelper(optimizer);
        var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(JsonSerializer.Serialize(model.Config));
            writer.Write(JsonSerializer.Serialize(info));
            WriteSection(writer, w => model.save(w));
            WriteSection(writer, w => helper.save_state_dict(w));
        }
        var hash = SHA256.HashData(payload.GetBuffer().AsSpan(0, (int)payload.Length));

        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temporary = fullPath + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(payload.GetBuffer(), 0, (int)payload.Length);
            file.Write(hash);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, fullPath, overwrite: true);
        FsyncDirectory(directory);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Verifies the file and returns its model configuration and training position.</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        var (reader, sha) = OpenVerified(path);
        using (reader)
        {
            var (config, info) = ReadHead(path, reader);
            return new CheckpointHeader(config, info, sha);
        }
    }

    /// <summary>
    /// Verifies the file, loads weights into <paramref name="model"/> (whose Config must equal the stored one)
    /// and state into <paramref name="optimizer"/> (same parameter layout), and returns the training position.
    /// </summary>
    public static TrainingCheckpointInfo Load(string path, AstModel model, optim.Optimizer optimizer)
    {
        var helper = AsHelper(optimizer);
        var (reader, _) = OpenVerified(path);
        using (reader)
        {
            var (config, info) = ReadHead(path, reader);
            if (config != model.Config)
                throw new ArgumentException($"{path}: checkpoint is for {config}, the model is {model.Config}", nameof(model));
            try
            {
                ReadSection(reader, r => model.load(r, strict: true));
                ReadSection(reader, r => helper.load_state_dict(r));
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException)
            {
                throw new CheckpointCorruptException(path, $"weights or optimiser state unreadable: {e.Message}", e);
            }
            return info;
        }
    }

    private static (BinaryReader Reader, string Sha256) OpenVerified(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length <= HashLength + Magic.Length)
            throw new CheckpointCorruptException(path, $"truncated ({bytes.Length} bytes)");
        var body = bytes.AsSpan(0, bytes.Length - HashLength);
        var stored = bytes.AsSpan(bytes.Length - HashLength);
        var actual = SHA256.HashData(body);
        if (!actual.AsSpan().SequenceEqual(stored))
            throw new CheckpointCorruptException(path,
                $"SHA-256 mismatch (stored {Convert.ToHexStringLower(stored)}, content {Convert.ToHexStringLower(actual)}): truncated or modified");
        var reader = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false));
        return (reader, Convert.ToHexStringLower(stored));
    }

    private static (AstConfig, TrainingCheckpointInfo) ReadHead(string path, BinaryReader reader)
    {
        try
        {
            if (reader.ReadString() != Magic) throw new CheckpointCorruptException(path, "not an ActorTraining checkpoint");
            int version = reader.ReadInt32();
            if (version != FormatVersion) throw new CheckpointCorruptException(path, $"format version {version}, expected {FormatVersion}");
            var config = JsonSerializer.Deserialize<AstConfig>(reader.ReadString())!;
            var info = JsonSerializer.Deserialize<TrainingCheckpointInfo>(reader.ReadString())!;
            return (config, info);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new CheckpointCorruptException(path, $"header unreadable: {e.Message}", e);
        }
    }

    // Length-prefixed so each section is read from exactly its own bytes.
    private static void WriteSection(BinaryWriter writer, Action<BinaryWriter> write)
    {
        using var section = new MemoryStream();
        using (var sectionWriter = new BinaryWriter(section, System.Text.Encoding.UTF8, leaveOpen: true)) write(sectionWriter);
        writer.Write(section.Length);
        writer.Write(section.GetBuffer(), 0, (int)section.Length);
    }

    private static void ReadSection(BinaryReader reader, Action<BinaryReader> read)
    {
        long length = reader.ReadInt64();
        var bytes = reader.ReadBytes(checked((int)length));
        if (bytes.Length != length) throw new EndOfStreamException($"section of {length} bytes ends after {bytes.Length}");
        using var sectionReader = new BinaryReader(new MemoryStream(bytes));
        read(sectionReader);
    }

    private static OptimizerHelper AsHelper(optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper ?? throw new ArgumentException(
            $"optimizer {optimizer.GetType().Name} has no TorchSharp state dict (OptimizerHelper) to checkpoint", nameof(optimizer));

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
