using System.Buffers.Binary;
using System.Text;

namespace ActorTraining.Compute.Protobuf;

/// <summary>
/// One protocol-buffer message being written (the wire format of protobuf-encoding.md): varints, 64- and 32-bit
/// little-endian scalars, length-delimited fields (bytes, strings, nested messages). Enough for the two formats we
/// write without a schema compiler — TensorBoard's Event and ONNX's ModelProto — and read back in tests with
/// Google.Protobuf and ONNX Runtime. Repeated scalars are written unpacked, which every parser accepts.
/// </summary>
public sealed class ProtoWriter
{
    readonly MemoryStream _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    void Tag(int field, int wireType) => WriteVarint((ulong)((uint)field << 3 | (uint)wireType));

    void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.WriteByte((byte)value);
    }

    /// <summary>int32/int64/uint64/enum/bool (a negative int64 is its two's complement, ten bytes, as protobuf's).</summary>
    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    public ProtoWriter Double(int field, double value)
    {
        Tag(field, 1);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());
}
