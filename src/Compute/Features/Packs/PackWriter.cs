using Microsoft.Win32.SafeHandles;

namespace ActorTraining.Compute.Features;

/// <summary>
/// A pack this process appends to: <c>&lt;name&gt;.pack</c> (records) and <c>&lt;name&gt;.idx</c> (an entry per
/// record, appended after the record is whole, so an index never names bytes that are not there). Only its writer
/// appends; a pack left by a writer that is gone is never appended to again. Not thread-safe: the cache serialises appends.
/// </summary>
public sealed class PackWriter : IDisposable
{
    readonly SafeFileHandle _pack, _index;

    PackWriter(string name, string path, SafeFileHandle pack, SafeFileHandle index) => (Name, PackPath, _pack, _index) = (name, path, pack, index);

    public string Name { get; }
    public string PackPath { get; }
    public long Length { get; private set; }
    public long IndexLength { get; private set; }

    /// <summary>A new, empty pack in <paramref name="folder"/>; opened shared (a reader's lock and this one's keep it from eviction).</summary>
    public static PackWriter Create(string folder, string name)
    {
        var path = Path.Combine(folder, name + ".pack");
        var pack = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var index = File.OpenHandle(Path.ChangeExtension(path, ".idx"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        return new PackWriter(name, path, pack, index);
    }

    /// <summary>Appends a record (its header and payload) and then its index entry; returns the entry (pack number 0: the caller's to set).</summary>
    public PackIndexEntry Append(PackRecord record, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[PackRecord.HeaderBytes];
        record.Write(header);
        var entry = new PackIndexEntry(record.Key, Length, PackRecord.HeaderBytes + payload.Length, 0, DateTime.UtcNow.Ticks, record.PayloadHash);
        try
        {
            RandomAccess.Write(_pack, header, Length);
            RandomAccess.Write(_pack, payload, Length + PackRecord.HeaderBytes);
            Span<byte> bytes = stackalloc byte[PackIndexEntry.Bytes];
            entry.Write(bytes);
            RandomAccess.Write(_index, bytes, IndexLength);
        }
        catch
        {
            // a failed append (disk full) leaves no partial record that later appends would follow
            RandomAccess.SetLength(_pack, Length);
            RandomAccess.SetLength(_index, IndexLength);
            throw;
        }
        Length += entry.Length;
        IndexLength += PackIndexEntry.Bytes;
        return entry;
    }

    public void Dispose()
    {
        _pack.Dispose();
        _index.Dispose();
    }
}
