using System.Collections;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;

namespace ActorTraining.Compute.Data;

/// <summary>
/// A corpus's entries in a binary index file read through a memory map, so a run over millions of clips holds only
/// the pages it touches, not a managed list (about 350 bytes a clip, 0.7 GB for AudioSet's 2 M). An entry is
/// materialised on access. Built once by streaming the datafile (<see cref="CorpusIndexWriter"/>); the header
/// records the source file's length and write time, and an index whose source changed is rebuilt.
/// Layout (little-endian): header | records (per entry: int path byte count, UTF-8 path, int label count, int label
/// ids) | label table (int count, then per label: int byte count, UTF-8) | record offsets (count + 1 longs).
/// </summary>
public sealed unsafe class CorpusIndex : IReadOnlyList<DatasetEntry>, IDisposable
{
    internal static ReadOnlySpan<byte> Magic => "ATCIDX01"u8;
    internal const int HeaderBytes = 8 + 6 * 8;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _base;
    readonly long _length;
    readonly long _offsets;
    readonly string[] _labels;
    readonly bool _deleteOnDispose;
    bool _disposed;

    /// <summary>The index file.</summary>
    public string Path { get; }

    public int Count { get; }

    /// <summary>Length and last write time (UTC ticks) of the file the index was built from; zero when it has none.</summary>
    public (long Length, long WriteTicks) Source { get; }

    /// <summary>The distinct labels of the corpus, in order of first appearance.</summary>
    public IReadOnlyList<string> Labels => _labels;

    CorpusIndex(string path, bool deleteOnDispose)
    {
        Path = path;
        _deleteOnDispose = deleteOnDispose;
        _length = new FileInfo(path).Length;
        if (_length < HeaderBytes) throw new InvalidDataException($"{path}: not a corpus index ({_length} bytes)");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        Runtime.MappedPages.ReadAtRandom(p, (long)_view.SafeMemoryMappedViewHandle.ByteLength); // epochs read entries in a shuffled order
        try
        {
            if (!new ReadOnlySpan<byte>(_base, 8).SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a corpus index (bad magic)");
            Source = (Long(8), Long(16));
            long count = Long(24), labelTable = Long(32);
            _offsets = Long(40);
            if (Long(48) != _length || count > int.MaxValue || _offsets + (count + 1) * 8 != _length || labelTable > _offsets)
                throw new InvalidDataException($"{path}: truncated or inconsistent corpus index");
            Count = (int)count;
            _labels = new string[Int(labelTable)];
            long at = labelTable + 4;
            for (int i = 0; i < _labels.Length; i++)
            {
                int n = Int(at);
                _labels[i] = Encoding.UTF8.GetString(_base + at + 4, n);
                at += 4 + n;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens an index file; <paramref name="deleteOnDispose"/> removes it when disposed (a temporary index).</summary>
    public static CorpusIndex Open(string path, bool deleteOnDispose = false) => new(path, deleteOnDispose);

    /// <summary>
    /// The index of an AST datafile, built by streaming it (errors as <see cref="AstDatafile.Read"/>). In
    /// <paramref name="indexDirectory"/> (a run directory's, writable even when the datafile's folder is not) it is
    /// kept and reused while the datafile is unchanged; with null it is a temporary file deleted on dispose.
    /// </summary>
    public static CorpusIndex OfDatafile(string datafileJson, string? indexDirectory)
    {
        var full = System.IO.Path.GetFullPath(datafileJson);
        var info = new FileInfo(full);
        if (!info.Exists) throw new DatasetException(full, "datafile not found");
        var source = (info.Length, info.LastWriteTimeUtc.Ticks);
        string path;
        if (indexDirectory is null) path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"actortraining-{Guid.NewGuid():N}.corpusindex");
        else
        {
            Directory.CreateDirectory(indexDirectory);
            var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..16];
            path = System.IO.Path.Combine(indexDirectory, $"{System.IO.Path.GetFileNameWithoutExtension(full)}-{key}.corpusindex");
            if (TryOpenCurrent(path, source) is { } current) return current;
        }
        using var writer = new CorpusIndexWriter(path, source);
        foreach (var entry in AstDatafile.Read(full)) writer.Add(entry.AudioPath, entry.Labels);
        return writer.Complete(deleteOnDispose: indexDirectory is null);
    }

    /// <summary>The index at <paramref name="path"/> if it exists, is whole and was built from this version of the source.</summary>
    static CorpusIndex? TryOpenCurrent(string path, (long, long) source)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var index = Open(path);
            if (index.Source == source) return index;
            index.Dispose();
        }
        catch (InvalidDataException) { }
        return null;
    }

    /// <summary>
    /// The first entry with a label <paramref name="labels"/> does not list, or null. The index's distinct labels are
    /// checked first, so a corpus without a stray label costs no pass over its clips.
    /// </summary>
    public (int Index, DatasetEntry Entry, string Label)? FirstUnknownLabel(LabelSet labels)
    {
        if (_labels.All(l => labels.IndexOf(l) >= 0)) return null;
        for (int i = 0; i < Count; i++)
        {
            var entry = this[i];
            foreach (var label in entry.Labels)
                if (labels.IndexOf(label) < 0) return (i, entry, label);
        }
        return null;
    }

    public DatasetEntry this[int index]
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            long at = Long(_offsets + 8L * index);
            int pathBytes = Int(at);
            var path = Encoding.UTF8.GetString(_base + at + 4, pathBytes);
            at += 4 + pathBytes;
            var labels = new string[Int(at)];
            for (int i = 0; i < labels.Length; i++) labels[i] = _labels[Int(at + 4 + 4L * i)];
            return new DatasetEntry(path, labels);
        }
    }

    public IEnumerator<DatasetEntry> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    long Long(long at) => *(long*)(_base + at);
    int Int(long at) => *(int*)(_base + at);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        if (_deleteOnDispose) File.Delete(Path);
    }
}
