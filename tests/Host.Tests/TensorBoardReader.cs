using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;
using Google.Protobuf;

namespace ActorTraining.Host.Tests;

/// <summary>
/// Reads TensorBoard event files independently of the writer: TFRecord framing checked with CRC-32C computed by the
/// CPU's SSE4.2 crc32 instruction (a bitwise loop where it is missing), protobuf fields decoded by Google.Protobuf,
/// field numbers from tensorflow/core/util/event.proto and framework/summary.proto, tensor.proto.
/// </summary>
internal static class TensorBoardReader
{
    public sealed record Value(string Tag, float? Simple, string? Text, string? Plugin);

    public sealed record Event(double WallTime, long Step, string? FileVersion, IReadOnlyList<Value> Values, int? SessionStatus);

    public static List<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < 12) throw new InvalidDataException($"{path}: {bytes.Length - at} trailing bytes at {at}");
            var lengthBytes = bytes.AsSpan(at, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)) != MaskedCrc(lengthBytes))
                throw new InvalidDataException($"{path}: length CRC wrong at {at}");
            var data = bytes.AsSpan(at + 12, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length, 4)) != MaskedCrc(data))
                throw new InvalidDataException($"{path}: data CRC wrong at {at}");
            events.Add(ParseEvent(data.ToArray()));
            at += 12 + (int)length + 4;
        }
        return events;
    }

    static Event ParseEvent(byte[] data)
    {
        var input = new CodedInputStream(data);
        double wall = 0;
        long step = 0;
        string? version = null;
        int? session = null;
        var values = new List<Value>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: wall = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 3: version = input.ReadString(); break;
                case 5: values.AddRange(Messages(input.ReadBytes(), 1).Select(ParseValue)); break;
                case 6: session = (int)Fields(input.ReadBytes()).First(f => f.Number == 1).Varint; break;
                default: input.SkipLastField(); break;
            }
        }
        return new Event(wall, step, version, values, session);
    }

    static Value ParseValue(ByteString bytes)
    {
        string tag = "";
        float? simple = null;
        string? text = null, plugin = null;
        var input = new CodedInputStream(bytes.ToByteArray());
        uint t;
        while ((t = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(t))
            {
                case 1: tag = input.ReadString(); break;
                case 2: simple = input.ReadFloat(); break;
                case 8: // TensorProto: dtype 1 (DT_STRING = 7), string_val 8
                    var tensor = Fields(input.ReadBytes());
                    if (tensor.First(f => f.Number == 1).Varint != 7) throw new InvalidDataException("text tensor is not DT_STRING");
                    text = tensor.First(f => f.Number == 8).Bytes!.ToStringUtf8();
                    break;
                case 9: // SummaryMetadata.plugin_data (1) .plugin_name (1)
                    var pluginData = Fields(input.ReadBytes()).First(f => f.Number == 1).Bytes!;
                    plugin = Fields(pluginData).First(f => f.Number == 1).Bytes!.ToStringUtf8();
                    break;
                default: input.SkipLastField(); break;
            }
        }
        return new Value(tag, simple, text, plugin);
    }

    sealed record Field(int Number, ulong Varint, ByteString? Bytes);

    static List<Field> Fields(ByteString bytes)
    {
        var input = new CodedInputStream(bytes.ToByteArray());
        var fields = new List<Field>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint: fields.Add(new Field(number, input.ReadUInt64(), null)); break;
                case WireFormat.WireType.LengthDelimited: fields.Add(new Field(number, 0, input.ReadBytes())); break;
                default: input.SkipLastField(); break;
            }
        }
        return fields;
    }

    static IEnumerable<ByteString> Messages(ByteString bytes, int field) =>
        Fields(bytes).Where(f => f.Number == field).Select(f => f.Bytes!);

    static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            if (Sse42.IsSupported) crc = Sse42.Crc32(crc, b);
            else
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78 & (0u - (crc & 1)));
            }
        }
        crc ^= 0xFFFFFFFF;
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8;
    }
}
