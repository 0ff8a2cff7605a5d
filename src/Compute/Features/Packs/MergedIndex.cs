using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace ActorTraining.Compute.Features;

/// <summary>
/// The index of many packs in one sorted file, so a process opens a folder of thousands of packs without reading their
/// indexes and finds a key by binary search over a memory map (resident memory stays the page cache's, not the heap's).
/// Header and pack table (each pack's name and how many of its index bytes and pack bytes this file covers) carry a
/// hash; entries carry their own check. One key appears once: its newest record. Written whole to a temporary name and
/// renamed, by whichever process holds the folder's merge lock; readers keep the generation they mapped until they
/// map a newer one (an unlinked file stays readable while mapped).
/// </summary>
public sealed unsafe class MergedIndex : IDisposable
{
    const int HeaderBytes = 40, NameBytes = 96, TableEntryBytes = NameBytes + 16;
    static ReadOnlySpan<byte> Magic => "ATFMRG01"u8;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _entries;

    MergedIndex(string path, long generation, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* entries, long count, IReadOnlyList<PackCoverage> packs)
    {
        (Path, Generation, _map, _view, Count, Packs) = (path, generation, map, view, count, packs);
        _entries = entries;
    }

    public string Path { get; }
    public long Generation { get; }
    public long Count { get; }
    /// <summary>The packs this index covers, by their number in its entries.</summary>
    public IReadOnlyList<PackCoverage> Packs { get; }

    /// <summary>The index at <paramref name="path"/> mapped, or null when it is not one (damaged, foreign, gone).</summary>
    public static MergedIndex? Open(string path, long generation)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (stream.Length < HeaderBytes) { stream.Dispose(); return null; }
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        Runtime.MappedPages.ReadAtRandom(start, (long)view.SafeMemoryMappedViewHandle.ByteLength); // binary searches touch pages here and there
        start += view.PointerOffset;
        long length = stream.Length;
        var header = new ReadOnlySpan<byte>(start, HeaderBytes);
        long count = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        int packs = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        long tableBytes = (long)packs * TableEntryBytes;
        if (!header[..8].SequenceEqual(Magic) || packs < 0 || count < 0 || HeaderBytes + tableBytes + count * PackIndexEntry.Bytes != length)
            return Close(map, view);
        var table = new ReadOnlySpan<byte>(start + HeaderBytes, (int)tableBytes);
        var hash = new XxHash3();
        hash.Append(header[..32]);
        hash.Append(table);
        if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(header[32..])) return Close(map, view);
        var coverage = new PackCoverage[packs];
        for (int i = 0; i < packs; i++)
        {
            var row = table.Slice(i * TableEntryBytes, TableEntryBytes);
            coverage[i] = new PackCoverage(Encoding.UTF8.GetString(row[..NameBytes].TrimEnd((byte)0)),
                BinaryPrimitives.ReadInt64LittleEndian(row[NameBytes..]), BinaryPrimitives.ReadInt64LittleEndian(row[(NameBytes + 8)..]));
        }
        return new MergedIndex(path, generation, map, view, start + HeaderBytes + tableBytes, count, coverage);
    }

    static MergedIndex? Close(MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
        return null;
    }

    /// <summary>The entry of <paramref name="key"/>, or null.</summary>
    public PackIndexEntry? Find(UInt128 key)
    {
        long low = 0, high = Count - 1;
        while (low <= high)
        {
            long middle = low + (high - low) / 2;
            var entry = new ReadOnlySpan<byte>(_entries + middle * PackIndexEntry.Bytes, PackIndexEntry.Bytes);
            var found = PackIndexEntry.KeyOf(entry);
            if (found == key) return PackIndexEntry.Read(entry);
            if (found < key) low = middle + 1; else high = middle - 1;
        }
        return null;
    }

    /// <summary>Every entry in key order (null where one fails its check).</summary>
    public IEnumerable<PackIndexEntry?> Entries()
    {
        for (long i = 0; i < Count; i++) yield return Entry(i);
    }

    PackIndexEntry? Entry(long i) => PackIndexEntry.Read(new ReadOnlySpan<byte>(_entries + i * PackIndexEntry.Bytes, PackIndexEntry.Bytes));

    /// <summary>The size of an index of <paramref name="packs"/> packs and at most <paramref name="entries"/> entries.</summary>
    public static long MostBytes(int packs, long entries) => HeaderBytes + (long)packs * TableEntryBytes + entries * PackIndexEntry.Bytes;

    /// <summary>Writes an index of <paramref name="packs"/> with <paramref name="entries"/> (sorted by key, one per key, pack numbers into <paramref name="packs"/>) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<PackCoverage> packs, IEnumerable<PackIndexEntry> entries)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            var table = new byte[packs.Count * TableEntryBytes];
            for (int i = 0; i < packs.Count; i++)
            {
                var row = table.AsSpan(i * TableEntryBytes, TableEntryBytes);
                if (Encoding.UTF8.GetBytes(packs[i].Name, row[..NameBytes]) >= NameBytes) throw new ArgumentException($"pack name too long: {packs[i].Name}");
                BinaryPrimitives.WriteInt64LittleEndian(row[NameBytes..], packs[i].IndexBytes);
                BinaryPrimitives.WriteInt64LittleEndian(row[(NameBytes + 8)..], packs[i].PackBytes);
            }
            long count = 0;
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                file.Position = HeaderBytes + table.Length;
                var bytes = new byte[PackIndexEntry.Bytes];
                foreach (var entry in entries)
                {
                    entry.Write(bytes);
                    file.Write(bytes);
                    count++;
                }
                var header = new byte[HeaderBytes];
                Magic.CopyTo(header);
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), count);
                BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), packs.Count);
                var hash = new XxHash3();
                hash.Append(header.AsSpan(0, 32));
                hash.Append(table);
                BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), hash.GetCurrentHashAsUInt64());
                file.Position = 0;
                file.Write(header);
                file.Write(table);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally { File.Delete(temporary); }
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}

/// <summary>A pack as an index covers it: its name and how many bytes of its index and of the pack the index had read.</summary>
public sealed record PackCoverage(string Name, long IndexBytes, long PackBytes);
