using System.Buffers.Binary;

namespace ActorTraining.Compute.Audio;

/// <summary>One packet of an Ogg logical stream, and the granule position of its page if it is the last packet completed there (else −1).</summary>
internal readonly record struct OggPacket(byte[] Data, long Granule, bool EndOfStream);

/// <summary>
/// The packets of the first logical stream of an Ogg file (RFC 3533): pages are checked (capture pattern, version,
/// CRC-32), packets joined across pages, pages of other multiplexed streams skipped. <see cref="SeekBefore"/> jumps
/// by page granule positions without reading the pages' bodies, so a window deep in a long recording costs the pages
/// before it only their 27-byte headers.
/// </summary>
internal sealed class OggPackets(string path, Stream stream)
{
    private const int HeaderBytes = 27;
    private static readonly uint[] CrcTable = MakeCrcTable();

    private uint? _serial;
    private readonly Queue<OggPacket> _ready = new();
    private readonly MemoryStream _partial = new();
    private bool _dropContinuation;

    /// <summary>True once the end-of-stream page of our stream has been read, or the file ended after a whole page.</summary>
    public bool Ended { get; private set; }

    /// <summary>After <see cref="Ended"/>: another logical stream begins after ours (a chained file).</summary>
    public bool ChainFollows { get; private set; }

    public bool TryNext(out OggPacket packet)
    {
        while (_ready.Count == 0)
        {
            if (Ended || !ReadPage()) { packet = default; return false; }
        }
        packet = _ready.Dequeue();
        return true;
    }

    /// <summary>
    /// Positions the reader at the first page after the last page of our stream whose granule position is at most
    /// <paramref name="granule"/>, searching from the current position; the packet continued onto that page is dropped.
    /// Stays where it is when no such page precedes the target.
    /// </summary>
    public void SeekBefore(long granule)
    {
        long start = stream.Position, resumeAt = -1;
        Span<byte> header = stackalloc byte[HeaderBytes];
        var lacing = new byte[255];
        while (stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) == HeaderBytes && header[..4].SequenceEqual("OggS"u8))
        {
            int segments = header[26];
            stream.ReadExactly(lacing.AsSpan(0, segments));
            int body = 0;
            for (int i = 0; i < segments; i++) body += lacing[i];
            stream.Seek(body, SeekOrigin.Current);
            long pageGranule = BinaryPrimitives.ReadInt64LittleEndian(header[6..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[14..]) != _serial) continue;
            if (pageGranule > granule) break;
            if (pageGranule >= 0) resumeAt = stream.Position;
        }
        stream.Position = resumeAt >= 0 ? resumeAt : start;
        if (resumeAt < 0) return;
        _ready.Clear();
        _partial.SetLength(0);
        _dropContinuation = true;
    }

    /// <summary>Reads one page; false at the end of the file.</summary>
    private bool ReadPage()
    {
        long at = stream.Position;
        var header = new byte[HeaderBytes];
        int got = stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
        if (got == 0) { Ended = true; return false; }
        if (got < HeaderBytes) throw new AudioDecodeException(path, $"truncated Ogg page at byte {at}");
        if (!header.AsSpan(0, 4).SequenceEqual("OggS"u8) || header[4] != 0)
            throw new AudioDecodeException(path, $"corrupt Ogg stream: no page at byte {at}");
        int segments = header[26];
        var lacing = new byte[segments];
        int body = 0;
        if (stream.ReadAtLeast(lacing, segments, throwOnEndOfStream: false) == segments)
            foreach (var l in lacing) body += l;
        var data = new byte[body];
        if (lacing.Length != segments || stream.ReadAtLeast(data, body, throwOnEndOfStream: false) < body)
            throw new AudioDecodeException(path, $"truncated Ogg page at byte {at}");

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(22));
        header.AsSpan(22, 4).Clear();
        if (Crc(Crc(Crc(0, header), lacing), data) != crc)
            throw new AudioDecodeException(path, $"corrupt Ogg page at byte {at}: checksum mismatch");

        byte flags = header[5];
        uint serial = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(14));
        _serial ??= serial;
        if (serial != _serial)
        {
            if ((flags & 0x02) != 0 && Ended) ChainFollows = true;
            return true; // another multiplexed stream
        }

        long granule = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(6));
        bool continued = (flags & 0x01) != 0, eos = (flags & 0x04) != 0;
        if (!continued) _partial.SetLength(0);
        bool dropping = _dropContinuation && continued;
        _dropContinuation = false;
        int offset = 0, lastComplete = -1;
        var completed = new List<byte[]>();
        for (int i = 0; i < segments; i++)
        {
            _partial.Write(data, offset, lacing[i]);
            offset += lacing[i];
            if (lacing[i] < 255)
            {
                if (!dropping) completed.Add(_partial.ToArray());
                dropping = false;
                _partial.SetLength(0);
                lastComplete = i;
            }
        }
        if (dropping) _partial.SetLength(0); // the dropped packet spans this whole page too
        for (int k = 0; k < completed.Count; k++)
            _ready.Enqueue(new OggPacket(completed[k], k == completed.Count - 1 && lastComplete >= 0 ? granule : -1, eos && k == completed.Count - 1));
        if (eos)
        {
            Ended = true;
            ChainFollows = NextPageBeginsAStream();
        }
        return true;
    }

    private bool NextPageBeginsAStream()
    {
        long at = stream.Position;
        Span<byte> header = stackalloc byte[HeaderBytes];
        bool begins = stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) == HeaderBytes
            && header[..4].SequenceEqual("OggS"u8) && (header[5] & 0x02) != 0;
        stream.Position = at;
        return begins;
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) crc = (crc << 8) ^ CrcTable[(crc >> 24) ^ b];
        return crc;
    }

    /// <summary>Ogg's CRC-32: polynomial 0x04C11DB7, most significant bit first, no reflection, initial value 0.</summary>
    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint r = i << 24;
            for (int k = 0; k < 8; k++) r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            table[i] = r;
        }
        return table;
    }
}
