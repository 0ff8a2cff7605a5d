using System.Buffers.Binary;
using System.Text;
using ActorTraining.Compute.Protobuf;

namespace ActorTraining.Compute.Reporting;

/// <summary>
/// A TensorBoard event file (<c>events.out.tfevents.&lt;seconds&gt;.&lt;host&gt;.&lt;pid&gt;</c>) written as TensorFlow does:
/// TFRecord framing (u64 length, masked CRC-32C of the length, the record, masked CRC-32C of the record) around
/// <c>Event</c> protobufs (tensorflow/core/util/event.proto, summary.proto): a first event with the file version,
/// then scalars (<c>simple_value</c>), text (a string tensor for the text plugin) and session starts. Each event is
/// flushed as written, so a killed run loses none it reported. Tests read it back with Google.Protobuf.
/// </summary>
public sealed class TensorBoardEvents : IDisposable
{
    readonly FileStream _file;

    public string Path { get; }

    public TensorBoardEvents(string directory)
    {
        Directory.CreateDirectory(directory);
        // host and process in the name: two writers (a supervisor that moved, a second start) never share a file
        var name = System.IO.Path.Combine(directory, $"events.out.tfevents.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}");
        Path = name;
        for (int n = 1; File.Exists(Path); n++) Path = $"{name}.{n}";
        _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        var first = new ProtoWriter();
        first.Double(1, WallTime());
        first.String(3, "brain.Event:2");
        Append(first);
    }

    /// <summary>A scalar (TensorBoard's Scalars tab) at <paramref name="step"/>.</summary>
    public void Scalar(string tag, long step, double value)
    {
        var v = new ProtoWriter();
        v.String(1, tag);
        v.Float(2, (float)value);
        WriteSummary(step, v);
    }

    /// <summary>Markdown text (the Text tab) at <paramref name="step"/>: a rank-0 string tensor tagged for the text plugin.</summary>
    public void Text(string tag, long step, string markdown)
    {
        var plugin = new ProtoWriter();
        plugin.String(1, "text");
        var metadata = new ProtoWriter();
        metadata.Message(1, plugin);
        var shape = new ProtoWriter(); // TensorShapeProto without dims: a scalar
        var tensor = new ProtoWriter();
        tensor.Varint(1, 7); // DT_STRING
        tensor.Message(2, shape);
        tensor.Bytes(8, Encoding.UTF8.GetBytes(markdown));
        var v = new ProtoWriter();
        v.String(1, tag);
        v.Message(9, metadata);
        v.Message(8, tensor);
        WriteSummary(step, v);
    }

    /// <summary>
    /// A session start at <paramref name="step"/> (SessionLog START): TensorBoard drops what this run's files hold at
    /// that step and later, so the steps a resumed run trains again are shown once, as trained the second time.
    /// </summary>
    public void SessionStart(long step)
    {
        var log = new ProtoWriter();
        log.Varint(1, 1); // SessionLog.START
        var e = Event(step);
        e.Message(6, log);
        Append(e);
    }

    void WriteSummary(long step, ProtoWriter value)
    {
        var summary = new ProtoWriter();
        summary.Message(1, value);
        var e = Event(step);
        e.Message(5, summary);
        Append(e);
    }

    static ProtoWriter Event(long step)
    {
        var e = new ProtoWriter();
        e.Double(1, WallTime());
        e.Varint(2, step);
        return e;
    }

    static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    void Append(ProtoWriter record)
    {
        var data = record.ToArray();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)data.Length);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Masked(length));
        _file.Write(length);
        _file.Write(crc);
        _file.Write(data);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Masked(data));
        _file.Write(crc);
        _file.Flush();
    }

    public void Dispose() => _file.Dispose();

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), masked as TFRecord does: rotate right by 15, add 0xA282EAD8.</summary>
    static class Crc32C
    {
        static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
        {
            uint c = (uint)i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Masked(ReadOnlySpan<byte> data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            crc ^= 0xFFFFFFFF;
            return ((crc >> 15) | (crc << 17)) + 0xA282EAD8;
        }
    }
}
