using System.Text;

namespace ActorTraining.Compute.Data;

/// <summary>
/// Writes a <see cref="CorpusIndex"/> one entry at a time: records go straight to disk (a temporary file beside the
/// index) and record offsets to a second one, so building never holds the corpus; only the distinct labels are kept.
/// <see cref="Complete"/> appends label table and offsets, then renames into place, so a process killed mid-build
/// leaves no half index.
/// </summary>
public sealed class CorpusIndexWriter : IDisposable
{
    readonly string _path;
    readonly (long Length, long WriteTicks) _source;
    readonly string _recordsTemp, _offsetsTemp;
    readonly FileStream _records, _offsets;
    readonly BinaryWriter _recordWriter, _offsetWriter;
    readonly Dictionary<string, int> _labelIds = new(StringComparer.Ordinal);
    readonly List<string> _labels = [];
    byte[] _pathBytes = new byte[1024];
    bool _done;

    public int Count { get; private set; }

    /// <param name="indexPath">Where the index goes.</param>
    /// <param name="source">Length and last write time (UTC ticks) of the source it is built from; (0, 0) for none.</param>
    public CorpusIndexWriter(string indexPath, (long Length, long WriteTicks) source)
    {
        _path = Path.GetFullPath(indexPath);
        _source = source;
        var unique = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        _recordsTemp = $"{_path}.{unique}.tmp";
        _offsetsTemp = $"{_path}.{unique}.offsets.tmp";
        _records = new FileStream(_recordsTemp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _offsets = new FileStream(_offsetsTemp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _recordWriter = new BinaryWriter(_records);
        _offsetWriter = new BinaryWriter(_offsets);
        _records.Write(new byte[CorpusIndex.HeaderBytes]); // filled in by Complete
    }

    public void Add(string audioPath, IReadOnlyList<string> labels)
    {
        _offsetWriter.Write(_records.Position);
        int n = Encoding.UTF8.GetMaxByteCount(audioPath.Length);
        if (n > _pathBytes.Length) _pathBytes = new byte[n];
        n = Encoding.UTF8.GetBytes(audioPath, _pathBytes);
        _recordWriter.Write(n);
        _recordWriter.Write(_pathBytes, 0, n);
        _recordWriter.Write(labels.Count);
        foreach (var label in labels)
        {
            if (!_labelIds.TryGetValue(label, out var id))
            {
                id = _labels.Count;
                _labelIds.Add(label, id);
                _labels.Add(label);
            }
            _recordWriter.Write(id);
        }
        Count++;
    }

    /// <summary>Finishes the file, moves it into place and opens it.</summary>
    public CorpusIndex Complete(bool deleteOnDispose = false)
    {
        long labelTable = _records.Position;
        _offsetWriter.Write(labelTable); // end of the last record
        _recordWriter.Write(_labels.Count);
        foreach (var label in _labels)
        {
            var bytes = Encoding.UTF8.GetBytes(label);
            _recordWriter.Write(bytes.Length);
            _recordWriter.Write(bytes);
        }
        long offsets = _records.Position;
        _offsetWriter.Flush();
        _offsets.Position = 0;
        _recordWriter.Flush();
        _offsets.CopyTo(_records);
        long length = _records.Position;
        _records.Position = 0;
        _recordWriter.Write(CorpusIndex.Magic);
        foreach (var value in new[] { _source.Length, _source.WriteTicks, Count, labelTable, offsets, length }) _recordWriter.Write(value);
        _recordWriter.Flush();
        _records.Flush(flushToDisk: true);
        Close();
        File.Move(_recordsTemp, _path, overwrite: true);
        _done = true;
        return CorpusIndex.Open(_path, deleteOnDispose);
    }

    void Close()
    {
        _recordWriter.Dispose();
        _offsetWriter.Dispose();
        File.Delete(_offsetsTemp);
    }

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        Close();
        File.Delete(_recordsTemp);
    }
}
