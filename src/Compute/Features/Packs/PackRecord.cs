using System.Buffers.Binary;
using System.IO.Hashing;

namespace ActorTraining.Compute.Features;

/// <summary>
/// One cached fbank in a pack: an 80-byte header (magic, key, shape, the clip's sample count, its source's stamp, an
/// XxHash3 of the payload, an XxHash3 of the header itself) and the payload. Self-describing, so a pack's tail past its
/// index can be checked record by record and a torn one cut off.
/// </summary>
public readonly record struct PackRecord(UInt128 Key, int Frames, int MelBins, int ValueBytes, long Samples, SourceStamp Stamp, ulong PayloadHash)
{
    public const int HeaderBytes = 80;
    static ReadOnlySpan<byte> Magic => "ATFPACK1"u8;

    public long PayloadBytes => (long)Frames * MelBins * ValueBytes;

    public void Write(Span<byte> header)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt128LittleEndian(header[8..], Key);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], Frames);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], MelBins);
        BinaryPrimitives.WriteInt32LittleEndian(header[32..], ValueBytes);
        BinaryPrimitives.WriteInt32LittleEndian(header[36..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[40..], Samples);
        BinaryPrimitives.WriteInt64LittleEndian(header[48..], Stamp.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[56..], Stamp.ModifiedTicks);
        BinaryPrimitives.WriteUInt64LittleEndian(header[64..], PayloadHash);
        BinaryPrimitives.WriteUInt64LittleEndian(header[72..], XxHash3.HashToUInt64(header[..72]));
    }

    /// <summary>The header in <paramref name="header"/>, or null when it is not one (torn, flipped, foreign bytes).</summary>
    public static PackRecord? Parse(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderBytes || !header[..8].SequenceEqual(Magic)) return null;
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[72..]) != XxHash3.HashToUInt64(header[..72])) return null;
        var record = new PackRecord(BinaryPrimitives.ReadUInt128LittleEndian(header[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(header[24..]), BinaryPrimitives.ReadInt32LittleEndian(header[28..]),
            BinaryPrimitives.ReadInt32LittleEndian(header[32..]), BinaryPrimitives.ReadInt64LittleEndian(header[40..]),
            new SourceStamp(BinaryPrimitives.ReadInt64LittleEndian(header[48..]), BinaryPrimitives.ReadInt64LittleEndian(header[56..])),
            BinaryPrimitives.ReadUInt64LittleEndian(header[64..]));
        return record.Frames >= 0 && record.MelBins > 0 && record.ValueBytes is 2 or 4 && record.Samples >= 0 ? record : null;
    }
}
