using System.Buffers.Binary;
using System.IO.Hashing;

namespace ActorTraining.Compute.Features;

/// <summary>
/// Where a key's record is: in which pack (a number of the index that holds the entry), at which offset, how long, when
/// it was stored (the newest record of a key wins: a changed clip's new fbank over its old one) and its payload's hash.
/// 56 bytes on disk with a check of their own, so a torn or flipped entry in an index is skipped, never followed.
/// </summary>
public readonly record struct PackIndexEntry(UInt128 Key, long Offset, int Length, int Pack, long StoredTicks, ulong PayloadHash)
{
    public const int Bytes = 56;

    public void Write(Span<byte> to)
    {
        BinaryPrimitives.WriteUInt128LittleEndian(to, Key);
        BinaryPrimitives.WriteInt64LittleEndian(to[16..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(to[24..], Length);
        BinaryPrimitives.WriteInt32LittleEndian(to[28..], Pack);
        BinaryPrimitives.WriteInt64LittleEndian(to[32..], StoredTicks);
        BinaryPrimitives.WriteUInt64LittleEndian(to[40..], PayloadHash);
        BinaryPrimitives.WriteUInt64LittleEndian(to[48..], XxHash3.HashToUInt64(to[..48]));
    }

    public static PackIndexEntry? Read(ReadOnlySpan<byte> from)
    {
        if (BinaryPrimitives.ReadUInt64LittleEndian(from[48..]) != XxHash3.HashToUInt64(from[..48])) return null;
        return new PackIndexEntry(BinaryPrimitives.ReadUInt128LittleEndian(from), BinaryPrimitives.ReadInt64LittleEndian(from[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(from[24..]), BinaryPrimitives.ReadInt32LittleEndian(from[28..]),
            BinaryPrimitives.ReadInt64LittleEndian(from[32..]), BinaryPrimitives.ReadUInt64LittleEndian(from[40..]));
    }

    /// <summary>The key alone, for a binary search over a sorted index without parsing every entry it passes.</summary>
    public static UInt128 KeyOf(ReadOnlySpan<byte> from) => BinaryPrimitives.ReadUInt128LittleEndian(from);

    /// <summary>Of two entries of one key, the one to serve.</summary>
    public bool IsNewerThan(PackIndexEntry other) => StoredTicks > other.StoredTicks || (StoredTicks == other.StoredTicks && Offset > other.Offset);
}
