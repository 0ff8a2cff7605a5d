using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ActorTraining.Compute.Features;

/// <summary>
/// Fbanks computed once per clip and front end, read back in later epochs, phases and evaluations instead of decoding
/// the audio and computing them again. Entries are appended to packs (<see cref="PackWriter"/>) of at most
/// <see cref="PackBytes"/>, one pack per writer process and unit (a shard's samples and front end: they are read,
/// kept and evicted together), so a folder holds a few files per thousand clips rather than one each. A record is
/// found through the folder's <see cref="MergedIndex"/> and the indexes written since it (read incrementally), and
/// read with two positioned reads, the payload straight into the result. A record whose header or payload fails its
/// hash (a flipped bit, a torn write) is counted and the clip computed again; a source whose length or modification
/// time differs from the record's is stale, computed again and stored anew (the newest record of a key wins). A pack
/// whose writer died mid-record has its tail checked and cut where the first damaged record starts.
/// Several processes (ranks, nodes on a shared folder) write one folder: each appends only to its own packs and
/// reserves bytes in the folder's <see cref="CacheSpace"/> first; past the limit, whole packs are evicted in
/// least-recently-used order, never one another process holds open (a shared flock while a reader has it open; an
/// evictor takes it exclusively or passes on). Thread-safe; one instance per folder per process (<see cref="For"/>).
/// </summary>
public sealed class FeatureCache : IDisposable
{
    const int MostActivePacks = 16, MostOpenPacks = 16, UncoveredPacksBeforeMerge = 256, MostEntriesPerMerge = 1 << 18;
    static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(2), TouchEvery = TimeSpan.FromSeconds(30);
    static readonly ConcurrentDictionary<string, FeatureCache> Open = new();

    readonly FeatureCacheSettings _settings;
    readonly string _packs, _writer;
    readonly CacheSpace _space;
    readonly FileStream _live;
    readonly object _gate = new(), _writing = new(), _merging = new();
    // the process's view of the folder, under _gate
    readonly Dictionary<string, PackState> _byName = new();
    readonly List<PackState> _byId = [];
    readonly Dictionary<UInt128, PackIndexEntry> _recent = new(); // entries the merged index does not cover, pack = id
    readonly HashSet<(int Pack, long Offset)> _damaged = [];
    readonly Dictionary<string, bool> _writerGone = new();
    readonly LinkedList<PackState> _openOrder = new();
    MergedIndex? _merged;
    PackState?[] _mergedPacks = [];
    DateTime _refreshed;
    // this process's packs, under _writing
    readonly Dictionary<string, (PackWriter Writer, long LastUse)> _active = new();
    int _sequence;
    long _clock;
    long _hits, _misses, _stale, _corrupt, _refused, _evicted, _bytes;
    readonly string? _legacy;
    int _fullSaid, _legacySaid;

    FeatureCache(FeatureCacheSettings settings)
    {
        _settings = settings;
        _packs = Path.Combine(settings.Directory, "packs");
        Directory.CreateDirectory(_packs);
        _space = new CacheSpace(Path.Combine(settings.Directory, "space"));
        var host = new string(Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c == '.' ? c : '_').Take(32).ToArray());
        _writer = $"{host}-{Environment.ProcessId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..4])}";
        // held while this process lives: a pack whose writer's file can be locked by another process is a dead writer's
        _live = new FileStream(Path.Combine(_packs, _writer + ".live"), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        PackBytes = Math.Clamp(settings.MaxBytes / 16, 1L << 20, 1L << 30);
        if (Directory.EnumerateDirectories(settings.Directory, "??").Any(d => Directory.EnumerateFiles(d, "*.fbank").Any()))
            _legacy = $"{settings.Directory} holds a per-clip feature cache of an earlier version (??/*.fbank): it is not read nor " +
                      "counted against data.cache.max-gb; delete those folders to free their space";
        Refresh(force: true); // also removes the live files of dead writers
        // counted again from the files when no other writer lives (one that does may have reserved bytes it has not written yet)
        bool alone = !Directory.EnumerateFiles(_packs, "*.live").Any(f => Path.GetFileNameWithoutExtension(f) != _writer);
        _bytes = _space.Change(now => { long counted = alone || now < 0 ? CountFiles() : now; return (counted, counted); });
    }

    /// <summary>The process's cache for a folder (created on first use); settings of a later call with the same folder must agree.</summary>
    public static FeatureCache For(FeatureCacheSettings settings)
    {
        var key = Path.GetFullPath(settings.Directory);
        var cache = Open.GetOrAdd(key, _ => new FeatureCache(settings with { Directory = key }));
        if (cache._settings.Precision != settings.Precision || cache._settings.MaxBytes != settings.MaxBytes)
            throw new ArgumentException($"{key}: one feature cache folder opened with two settings in one process", nameof(settings));
        return cache;
    }

    /// <summary>A cache of its own on <paramref name="settings"/>' folder, as another process would open it (tests, tools); dispose it.</summary>
    public static FeatureCache OpenPrivate(FeatureCacheSettings settings) => new(settings with { Directory = Path.GetFullPath(settings.Directory) });

    public FeatureCacheSettings Settings => _settings;

    /// <summary>A pack is closed and a new one started when a record would take it past this (a sixteenth of the limit, 1 MB to 1 GB).</summary>
    public long PackBytes { get; }

    /// <summary>Counts since the process opened the folder (served, computed because absent, because the source changed, because the
    /// record was damaged, not stored because every pack was in use at the limit, packs evicted) and the folder's bytes as last seen.</summary>
    public (long Hits, long Misses, long Stale, long Corrupt, long Refused, long Evicted, long Bytes) Statistics =>
        (Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), Interlocked.Read(ref _stale), Interlocked.Read(ref _corrupt),
         Interlocked.Read(ref _refused), Interlocked.Read(ref _evicted), Interlocked.Read(ref _bytes));

    /// <summary>Bytes a clip of <paramref name="frames"/> × <paramref name="melBins"/> takes in the folder (record and index entry).</summary>
    public long EntryBytes(int frames, int melBins) => PackRecord.HeaderBytes + (long)frames * melBins * ValueBytes + PackIndexEntry.Bytes;

    int ValueBytes => _settings.Precision == FeaturePrecision.Float16 ? 2 : 4;

    /// <summary>The cached fbank of <paramref name="key"/>'s clip whose file is now <paramref name="source"/>, or null (absent, stale or damaged: the caller computes and <see cref="Store"/>s it).</summary>
    public CachedFbank? Read(FeatureKey key, SourceStamp source)
    {
        var id = KeyOf(key);
        var found = Find(id);
        if (found is null && RefreshDue()) found = Find(id); // another process may have stored it since
        if (found is not { } hit)
        {
            Interlocked.Increment(ref _misses);
            return null;
        }
        var (entry, pack) = hit;
        SafeFileHandle? handle = null;
        try
        {
            handle = Handle(pack);
            if (handle is null) { Interlocked.Increment(ref _misses); return null; }
            Span<byte> header = stackalloc byte[PackRecord.HeaderBytes];
            if (RandomAccess.Read(handle, header, entry.Offset) != PackRecord.HeaderBytes || PackRecord.Parse(header) is not { } record ||
                record.Key != id || record.MelBins != key.MelBins || record.ValueBytes != ValueBytes ||
                PackRecord.HeaderBytes + record.PayloadBytes != entry.Length || record.PayloadHash != entry.PayloadHash)
                return Damaged(entry, pack);
            if (record.Stamp != source) { Interlocked.Increment(ref _stale); return null; }
            var values = new float[record.Frames * record.MelBins];
            long at = entry.Offset + PackRecord.HeaderBytes;
            ulong hash;
            if (record.ValueBytes == 4)
            {
                var bytes = MemoryMarshal.AsBytes(values.AsSpan()); // straight into the result: no second buffer
                if (RandomAccess.Read(handle, bytes, at) != bytes.Length) return Damaged(entry, pack);
                hash = XxHash3.HashToUInt64(bytes);
            }
            else
            {
                var halves = new Half[values.Length];
                var bytes = MemoryMarshal.AsBytes(halves.AsSpan());
                if (RandomAccess.Read(handle, bytes, at) != bytes.Length) return Damaged(entry, pack);
                hash = XxHash3.HashToUInt64(bytes);
                TensorPrimitives.ConvertToSingle(halves, values);
            }
            if (hash != record.PayloadHash) return Damaged(entry, pack);
            Interlocked.Increment(ref _hits);
            Touch(pack);
            return new CachedFbank(values, record.Frames, record.Samples);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _misses); // the pack went (evicted by another process) or is being checked: computed this time
            return null;
        }
    }

    CachedFbank? Damaged(PackIndexEntry entry, PackState pack)
    {
        Interlocked.Increment(ref _corrupt);
        lock (_gate) _damaged.Add((pack.Id, entry.Offset)); // never served again; the recomputed record is newer and wins
        return null;
    }

    /// <summary>
    /// Stores a computed fbank of the source as it was before it was decoded (<paramref name="source"/>: a clip edited while
    /// it was decoded is then stale at the next read) ([frames, mel] row-major; float16 values must already be rounded, see
    /// <see cref="RoundToPrecision"/>). Returns false when it was not stored: the limit is reached and every pack is in use
    /// (<paramref name="onNotice"/> hears it once), or the disk refused the write (the cache is an optimisation: a failure
    /// to store never fails the clip). <paramref name="onNotice"/> also hears once that the folder holds an older cache.
    /// </summary>
    public bool Store(FeatureKey key, SourceStamp source, float[] values, int frames, long samples, Action<string>? onNotice = null)
    {
        if (_legacy is not null && Interlocked.Exchange(ref _legacySaid, 1) == 0) onNotice?.Invoke(_legacy);
        ReadOnlySpan<byte> payload = _settings.Precision == FeaturePrecision.Float16 ? HalfBytes(values) : MemoryMarshal.AsBytes(values.AsSpan());
        var record = new PackRecord(KeyOf(key), frames, key.MelBins, ValueBytes, samples, source, XxHash3.HashToUInt64(payload));
        long size = PackRecord.HeaderBytes + payload.Length + PackIndexEntry.Bytes;
        var unit = $"{key.Group}\n{key.FrameShiftMs:R}\n{key.MelBins}\n{key.MaxSeconds:R}";
        bool reserved = false;
        try
        {
            lock (_writing)
            {
                var writer = WriterFor(unit, size);
                if (!(reserved = Reserve(size)))
                {
                    Interlocked.Increment(ref _refused);
                    if (Interlocked.Exchange(ref _fullSaid, 1) == 0)
                        onNotice?.Invoke($"the feature cache {_settings.Directory} is at its limit of {_settings.MaxBytes / 1e9:G3} GB " +
                                         "(data.cache.max-gb) and every pack in it is in use: clips not in it are decoded and computed each time they are read");
                    return false;
                }
                var entry = writer.Append(record, payload);
                lock (_gate)
                {
                    var pack = Register(writer.Name);
                    Remember(entry with { Pack = pack.Id });
                    (pack.IndexRead, pack.End) = (writer.IndexLength, writer.Length);
                }
            }
            RefreshDue(); // a process that only writes still starts merges
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
        {
            if (reserved) Release(size);
            return false;
        }
    }

    /// <summary>The active pack of <paramref name="unit"/> with room for <paramref name="size"/> more bytes (a new one if not). Under _writing.</summary>
    PackWriter WriterFor(string unit, long size)
    {
        _clock++;
        if (_active.TryGetValue(unit, out var active) && (active.Writer.Length == 0 || active.Writer.Length + size <= PackBytes))
        {
            _active[unit] = (active.Writer, _clock);
            return active.Writer;
        }
        if (active.Writer is not null) { active.Writer.Dispose(); _active.Remove(unit); }
        if (_active.Count >= MostActivePacks)
        {
            var oldest = _active.MinBy(a => a.Value.LastUse);
            oldest.Value.Writer.Dispose();
            _active.Remove(oldest.Key);
        }
        var writer = PackWriter.Create(_packs, $"{_writer}-{++_sequence:D5}");
        _active[unit] = (writer, _clock);
        return writer;
    }

    /// <summary>Room for <paramref name="size"/> bytes in the folder, evicting least-recently-used packs if need be; false if none can go.</summary>
    bool Reserve(long size)
    {
        var (granted, bytes) = _space.Change(now =>
        {
            if (now < 0) now = CountFiles();
            if (now + size > _settings.MaxBytes) now -= Evict(now + size - _settings.MaxBytes);
            return now + size <= _settings.MaxBytes ? (now + size, (true, now + size)) : (now, (false, now));
        });
        Interlocked.Exchange(ref _bytes, bytes);
        return granted;
    }

    void Release(long size)
    {
        try { Interlocked.Exchange(ref _bytes, _space.Change(now => (now - size, now - size))); }
        catch (Exception e) when (e is IOException or TimeoutException) { }
    }

    /// <summary>Deletes whole packs, least recently used first, until <paramref name="needed"/> bytes are free or none is left
    /// that may go (this process's active packs, packs another process has open). Under the space lock. Returns the bytes freed.</summary>
    long Evict(long needed)
    {
        long freed = 0;
        var active = _active.Values.Select(a => a.Writer.Name).ToHashSet();
        var candidates = new DirectoryInfo(_packs).EnumerateFiles("*.pack")
            .Select(f => (File: f, Name: Path.GetFileNameWithoutExtension(f.Name), Used: Max(f.LastAccessTimeUtc, f.LastWriteTimeUtc)))
            .Where(c => !active.Contains(c.Name)).OrderBy(c => c.Used).ToList();
        foreach (var (file, name, _) in candidates)
        {
            if (freed >= needed) break;
            lock (_gate) if (_byName.TryGetValue(name, out var state)) Close(state); // this process's own reader lets go first
            try
            {
                using var exclusive = new FileStream(file.FullName, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1);
                var index = Path.ChangeExtension(file.FullName, ".idx");
                long bytes = exclusive.Length + (File.Exists(index) ? new FileInfo(index).Length : 0);
                File.Delete(index);
                File.Delete(file.FullName); // while still held: no reader opens it between the check and the delete
                freed += bytes;
                Interlocked.Increment(ref _evicted);
                lock (_gate) if (_byName.TryGetValue(name, out var state)) state.Gone = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // in use by a reader, or gone already
        }
        return freed;
    }

    static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    /// <summary>What the folder's packs, indexes and merged indexes take: the space file's count when a process opens the folder.</summary>
    long CountFiles() =>
        new DirectoryInfo(_packs).EnumerateFiles().Where(f => f.Extension is ".pack" or ".idx").Sum(f => f.Length) +
        new DirectoryInfo(_settings.Directory).EnumerateFiles("merged-*.idx").Sum(f => f.Length);

    // ---- the view of the folder ----

    (PackIndexEntry Entry, PackState Pack)? Find(UInt128 key)
    {
        lock (_gate)
        {
            (PackIndexEntry, PackState)? best = null;
            if (_recent.TryGetValue(key, out var recent) && Usable(recent, _byId[recent.Pack])) best = (recent, _byId[recent.Pack]);
            if (_merged?.Find(key) is { } merged && merged.Pack < _mergedPacks.Length && _mergedPacks[merged.Pack] is { } pack &&
                Usable(merged, pack) && (best is null || merged.IsNewerThan(best.Value.Item1)))
                best = (merged, pack);
            return best;
        }
    }

    bool Usable(PackIndexEntry entry, PackState pack) => !pack.Gone && !_damaged.Contains((pack.Id, entry.Offset));

    void Remember(PackIndexEntry entry)
    {
        if (!_recent.TryGetValue(entry.Key, out var known) || entry.IsNewerThan(known)) _recent[entry.Key] = entry;
    }

    PackState Register(string name)
    {
        if (_byName.TryGetValue(name, out var known)) return known;
        var state = new PackState(_byId.Count, name, Path.Combine(_packs, name + ".pack"));
        _byId.Add(state);
        _byName[name] = state;
        return state;
    }

    bool RefreshDue()
    {
        lock (_gate) if (DateTime.UtcNow - _refreshed < RefreshEvery) return false;
        Refresh(force: false);
        return true;
    }

    /// <summary>
    /// Brings the view up to the folder: a newer merged index is mapped, index entries written since are read (from where
    /// this process stopped reading), packs that went are marked, a dead writer's pack with bytes past its index is checked
    /// and cut, and when much is not covered by the merged index, a merge is started (in the background, by one process at a time).
    /// </summary>
    void Refresh(bool force)
    {
        lock (_gate)
        {
            if (!force && DateTime.UtcNow - _refreshed < RefreshEvery) return;
            _refreshed = DateTime.UtcNow;
        }
        int known;
        lock (_gate) known = _byId.Count; // a pack registered after the listing was taken is not gone
        var listing = new DirectoryInfo(_packs).EnumerateFiles().ToList();
        var lengths = listing.ToDictionary(f => f.Name, f => f.Length);
        var newest = NewestMerged();
        long uncovered = 0;
        int uncoveredPacks = 0;
        var torn = new List<PackState>();
        lock (_gate)
        {
            if (newest is { } candidate && (_merged is null || candidate.Generation > _merged.Generation) && MergedIndex.Open(candidate.Path, candidate.Generation) is { } mapped)
            {
                _merged?.Dispose();
                _merged = mapped;
                _recent.Clear();
                foreach (var pack in _byId) pack.IndexRead = 0;
                _mergedPacks = mapped.Packs.Select(p => Register(p.Name)).ToArray<PackState?>();
                foreach (var pack in _byId) pack.Covered = 0;
                foreach (var (pack, cover) in _mergedPacks.Zip(mapped.Packs))
                    (pack!.IndexRead, pack.Covered, pack.End) = (cover.IndexBytes, cover.IndexBytes, Math.Max(pack.End, cover.PackBytes));
            }
            foreach (var pack in _byId.Take(known)) pack.Gone = !lengths.ContainsKey(pack.Name + ".pack");
            if (force) // writers killed before they could delete their live file
                foreach (var live in lengths.Keys.Where(f => f.EndsWith(".live") && f != _writer + ".live")) Gone(live[..^5]);
            foreach (var (file, length) in lengths)
            {
                if (!file.EndsWith(".idx")) continue;
                var pack = Register(file[..^4]);
                long whole = length - length % PackIndexEntry.Bytes;
                if (whole > pack.IndexRead) ReadIndex(pack, whole);
                if (whole > pack.Covered)
                {
                    uncovered += (whole - pack.Covered) / PackIndexEntry.Bytes;
                    uncoveredPacks++;
                }
                if (lengths.TryGetValue(pack.Name + ".pack", out var packLength) && packLength > pack.End && !pack.Name.StartsWith(_writer + "-") && WriterGone(pack.Name))
                    torn.Add(pack);
            }
        }
        foreach (var pack in torn) Recover(pack);
        long threshold = Math.Clamp((_merged?.Count ?? 0) / 16, 65536, 262144);
        if ((uncovered >= threshold || uncoveredPacks >= UncoveredPacksBeforeMerge) && Monitor.TryEnter(_merging))
        {
            Monitor.Exit(_merging);
            Task.Run(() => TryMerge(wait: false));
        }
    }

    /// <summary>Reads a pack's index entries from where this process stopped to <paramref name="until"/>. Under _gate.</summary>
    void ReadIndex(PackState pack, long until)
    {
        try
        {
            using var handle = File.OpenHandle(Path.ChangeExtension(pack.Path, ".idx"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var bytes = new byte[until - pack.IndexRead];
            int read = RandomAccess.Read(handle, bytes, pack.IndexRead);
            for (int at = 0; at + PackIndexEntry.Bytes <= read; at += PackIndexEntry.Bytes)
                if (PackIndexEntry.Read(bytes.AsSpan(at)) is { } entry)
                {
                    Remember(entry with { Pack = pack.Id });
                    pack.End = Math.Max(pack.End, entry.Offset + entry.Length);
                }
            pack.IndexRead += read - read % PackIndexEntry.Bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Whether the writer of <paramref name="pack"/> is gone (its live file is not held; a gone writer's is deleted). Under _gate.</summary>
    bool WriterGone(string pack) => pack.LastIndexOf('-') is > 0 and var dash && Gone(pack[..dash]); // a name not of a writer's pack: never checked

    bool Gone(string writer)
    {
        if (_writerGone.TryGetValue(writer, out var gone) && gone) return true;
        var live = Path.Combine(_packs, writer + ".live");
        try
        {
            using (new FileStream(live, FileMode.Open, FileAccess.Read, FileShare.None, 1)) { }
            File.Delete(live);
            gone = true;
        }
        catch (FileNotFoundException) { gone = true; }
        catch (IOException) { gone = false; } // held: its process runs
        return _writerGone[writer] = gone;
    }

    /// <summary>
    /// A dead writer's pack holds bytes past its index: the records there are checked one by one; whole ones get their
    /// index entries, and the pack is cut where the first torn or damaged one starts. Passes when another process has the pack open.
    /// </summary>
    void Recover(PackState pack)
    {
        try
        {
            using var file = new FileStream(pack.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1);
            using var index = new FileStream(Path.ChangeExtension(pack.Path, ".idx"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
            index.SetLength(index.Length - index.Length % PackIndexEntry.Bytes);
            long at = pack.End, length = file.Length;
            var header = new byte[PackRecord.HeaderBytes];
            var kept = new List<PackIndexEntry>();
            while (at < length)
            {
                if (RandomAccess.Read(file.SafeFileHandle, header, at) != header.Length || PackRecord.Parse(header) is not { } record ||
                    at + PackRecord.HeaderBytes + record.PayloadBytes > length) break;
                var payload = new byte[record.PayloadBytes];
                if (RandomAccess.Read(file.SafeFileHandle, payload, at + PackRecord.HeaderBytes) != payload.Length || XxHash3.HashToUInt64(payload) != record.PayloadHash) break;
                var entry = new PackIndexEntry(record.Key, at, PackRecord.HeaderBytes + payload.Length, 0, File.GetLastWriteTimeUtc(pack.Path).Ticks, record.PayloadHash);
                var bytes = new byte[PackIndexEntry.Bytes];
                entry.Write(bytes);
                RandomAccess.Write(index.SafeFileHandle, bytes, index.Length);
                kept.Add(entry);
                at += entry.Length;
            }
            if (at < length)
            {
                file.SetLength(at);
                long cut = length - at;
                Interlocked.Exchange(ref _bytes, _space.Change(now => (now - cut, now - cut)));
            }
            lock (_gate)
            {
                foreach (var entry in kept) Remember(entry with { Pack = pack.Id });
                (pack.End, pack.IndexRead) = (at, index.Length);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException) { } // in use or gone: the next refresh tries again
    }

    (string Path, long Generation)? NewestMerged() =>
        Directory.EnumerateFiles(_settings.Directory, "merged-*.idx")
            .Select(p => (Path: p, Generation: long.TryParse(Path.GetFileNameWithoutExtension(p)["merged-".Length..], out var g) ? g : -1))
            .Where(m => m.Generation >= 0).OrderByDescending(m => m.Generation).Cast<(string, long)?>().FirstOrDefault();

    /// <summary>Merges until every index entry written so far is covered, waiting for a merge under way (tools, tests, benchmarks).</summary>
    public void Merge()
    {
        while (true)
        {
            long before = _merged?.Generation ?? 0;
            lock (_merging) TryMerge(wait: true);
            Refresh(force: true);
            lock (_gate)
                if (_byId.All(p => p.Gone || p.IndexRead <= p.Covered) || (_merged?.Generation ?? 0) == before) return; // covered, or no progress (the disk refused)
        }
    }

    /// <summary>
    /// Writes the next merged index: the newest one's entries (of packs still there) and the index entries written since,
    /// one per key (at most <see cref="MostEntriesPerMerge"/> new ones: memory stays flat; the rest is the next merge's).
    /// Taken by one process at a time (the merge lock); a refresh starts it in the background when much is not covered,
    /// and another process's attempt then passes.
    /// </summary>
    void TryMerge(bool wait)
    {
        if (!Monitor.TryEnter(_merging)) return;
        try
        {
            using var exclusive = MergeLock(wait);
            if (exclusive is null) return;
            foreach (var torn in Directory.EnumerateFiles(_settings.Directory, "merged-*.tmp")) File.Delete(torn); // a merging process was killed
            var newest = NewestMerged();
            using var old = newest is { } n ? MergedIndex.Open(n.Path, n.Generation) : null;
            var covered = old?.Packs.ToDictionary(p => p.Name) ?? [];
            var packs = new List<PackCoverage>();
            var number = new Dictionary<string, int>();
            var fresh = new List<PackIndexEntry>();
            foreach (var file in new DirectoryInfo(_packs).EnumerateFiles("*.idx"))
            {
                var name = Path.GetFileNameWithoutExtension(file.Name);
                if (!File.Exists(Path.Combine(_packs, name + ".pack"))) continue;
                long from = covered.TryGetValue(name, out var c) ? c.IndexBytes : 0, end = c?.PackBytes ?? 0;
                long whole = file.Length - file.Length % PackIndexEntry.Bytes;
                number[name] = packs.Count;
                if (whole > from && fresh.Count < MostEntriesPerMerge) // past the budget, a pack keeps its coverage until the next merge
                {
                    var bytes = new byte[whole - from];
                    using (var handle = File.OpenHandle(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                        whole = from + RandomAccess.Read(handle, bytes, from) / PackIndexEntry.Bytes * PackIndexEntry.Bytes;
                    for (long at = 0; at < whole - from; at += PackIndexEntry.Bytes)
                        if (PackIndexEntry.Read(bytes.AsSpan((int)at)) is { } entry)
                        {
                            fresh.Add(entry with { Pack = packs.Count });
                            end = Math.Max(end, entry.Offset + entry.Length);
                        }
                    from = whole;
                }
                packs.Add(new PackCoverage(name, from, end));
            }
            fresh.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : b.IsNewerThan(a) ? 1 : a.IsNewerThan(b) ? -1 : 0);
            var oldEntries = old is null ? [] : old.Entries().Where(e => e is { } x && number.ContainsKey(old.Packs[x.Pack].Name))
                .Select(e => e!.Value with { Pack = number[old.Packs[e!.Value.Pack].Name] });
            long generation = (newest?.Generation ?? 0) + 1;
            var path = Path.Combine(_settings.Directory, $"merged-{generation:D8}.idx");
            long most = MergedIndex.MostBytes(packs.Count, (old?.Count ?? 0) + fresh.Count); // reserved before it is written, as records are
            lock (_writing) if (!Reserve(most)) return; // eviction passes over this process's active packs
            long written = 0, removed = 0;
            try
            {
                MergedIndex.Write(path, packs, Newest(MergeSorted(oldEntries, fresh)));
                written = new FileInfo(path).Length;
                foreach (var stale in Directory.EnumerateFiles(_settings.Directory, "merged-*.idx").Where(p => p != path).ToList())
                {
                    removed += new FileInfo(stale).Length;
                    File.Delete(stale);
                }
            }
            finally { Release(most - written + removed); }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException) { } // another process merges, or the disk refused: the next refresh tries again
        finally { Monitor.Exit(_merging); }
        if (!wait) Refresh(force: true);
    }

    FileStream? MergeLock(bool wait)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try { return new FileStream(Path.Combine(_settings.Directory, "merge.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1); }
            catch (IOException) when (wait && DateTime.UtcNow < deadline) { Thread.Sleep(50); }
            catch (IOException) { return null; }
        }
    }

    static IEnumerable<PackIndexEntry> MergeSorted(IEnumerable<PackIndexEntry> a, List<PackIndexEntry> b)
    {
        int j = 0;
        foreach (var x in a)
        {
            while (j < b.Count && b[j].Key <= x.Key) yield return b[j++];
            yield return x;
        }
        while (j < b.Count) yield return b[j++];
    }

    /// <summary>One entry per key of a key-sorted sequence: the newest.</summary>
    static IEnumerable<PackIndexEntry> Newest(IEnumerable<PackIndexEntry> sorted)
    {
        PackIndexEntry? kept = null;
        foreach (var entry in sorted)
        {
            if (kept is { } k && k.Key == entry.Key) { if (entry.IsNewerThan(k)) kept = entry; continue; }
            if (kept is { } done) yield return done;
            kept = entry;
        }
        if (kept is { } last) yield return last;
    }

    /// <summary>An open handle on <paramref name="pack"/> (kept among the process's most recent, which holds the pack's shared lock), or null when it is gone.</summary>
    SafeFileHandle? Handle(PackState pack)
    {
        lock (_gate)
        {
            if (pack.Handle is { } open)
            {
                _openOrder.Remove(pack.OpenNode!);
                _openOrder.AddFirst(pack.OpenNode!);
                return open;
            }
            try { pack.Handle = File.OpenHandle(pack.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
            catch (FileNotFoundException) { pack.Gone = true; return null; }
            pack.OpenNode = _openOrder.AddFirst(pack);
            if (_openOrder.Count > MostOpenPacks) Close(_openOrder.Last!.Value);
            return pack.Handle;
        }
    }

    /// <summary>Lets go of this process's handle on a pack (a read in flight keeps it until it ends). Under _gate.</summary>
    void Close(PackState pack)
    {
        if (pack.Handle is null) return;
        pack.Handle.Dispose();
        pack.Handle = null;
        _openOrder.Remove(pack.OpenNode!);
        pack.OpenNode = null;
    }

    /// <summary>Marks a pack used now (its access time, which eviction orders by), at most every <see cref="TouchEvery"/>.</summary>
    void Touch(PackState pack)
    {
        var now = DateTime.UtcNow;
        if (now - pack.Touched < TouchEvery) return;
        pack.Touched = now;
        try { File.SetLastAccessTimeUtc(pack.Path, now); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Values as the cache's precision keeps them. Applied to every fbank of a run with a float16 cache, cached or not
    /// (a clip past the size limit, a mixed clip), so a run's inputs do not depend on what happened to be in the cache.
    /// </summary>
    public static void RoundToPrecision(float[] values, FeaturePrecision precision)
    {
        if (precision != FeaturePrecision.Float16) return;
        var halves = new Half[values.Length];
        TensorPrimitives.ConvertToHalf(values, halves);
        TensorPrimitives.ConvertToSingle(halves, values);
    }

    static byte[] HalfBytes(float[] values)
    {
        var halves = new Half[values.Length];
        TensorPrimitives.ConvertToHalf(values, halves);
        return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
    }

    /// <summary>An entry's key: a hash of what determines its values (not of the source's stamp, so a changed clip's new record supersedes its old one).</summary>
    public UInt128 KeyOf(FeatureKey key)
    {
        var identity = $"{(key.AudioPath.Contains("://") ? key.AudioPath : Path.GetFullPath(key.AudioPath))}\n{key.FrameShiftMs:R}\n{key.MelBins}\n{key.MaxSeconds:R}\n{_settings.Precision}" +
            (key.StartSeconds == 0 ? "" : $"\n{key.StartSeconds:R}");
        return XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(identity));
    }

    /// <summary>Where the record <paramref name="key"/> would be served from now: its pack file, offset and length (tests, tools), or null.</summary>
    public (string Pack, long Offset, int Length)? Locate(FeatureKey key) =>
        Find(KeyOf(key)) is { } found ? (found.Pack.Path, found.Entry.Offset, found.Entry.Length) : null;

    /// <summary>Closes this process's packs and handles (a later process finds them as a dead writer's).</summary>
    public void Dispose()
    {
        lock (_writing)
        {
            foreach (var (writer, _) in _active.Values) writer.Dispose();
            _active.Clear();
        }
        lock (_gate)
        {
            foreach (var pack in _byId) Close(pack);
            _merged?.Dispose();
            _merged = null;
        }
        _live.Dispose();
        Open.TryRemove(new KeyValuePair<string, FeatureCache>(_settings.Directory, this));
    }

    /// <summary>What this process knows of one pack. Under _gate.</summary>
    sealed class PackState(int id, string name, string path)
    {
        public int Id { get; } = id;
        public string Name { get; } = name;
        public string Path { get; } = path;
        public long IndexRead { get; set; }
        public long Covered { get; set; } // index bytes the mapped merged index covers
        public long End { get; set; }
        public bool Gone { get; set; }
        public SafeFileHandle? Handle { get; set; }
        public LinkedListNode<PackState>? OpenNode { get; set; }
        public DateTime Touched { get; set; }
    }
}

/// <summary>What a cached fbank is of: the clip and the front end that computed it (the decoded length is part of it: a longer
/// input length decodes more of a clip), where in the file it starts (a window of a longer recording), and what it is
/// stored with (<paramref name="Group"/>: a shard's samples share packs; "" for clips that are files of their own).</summary>
public sealed record FeatureKey(string AudioPath, double FrameShiftMs, int MelBins, double MaxSeconds, double StartSeconds = 0, string Group = "");

/// <summary>A cached fbank: [Frames, mel] values and the decoded clip's sample count (a clip shorter than a window is padded, and says so).</summary>
public sealed record CachedFbank(float[] Values, int Frames, long Samples);

/// <summary>A source file's length and last modification time (UTC ticks): what tells a changed clip. Taken before the clip is decoded.</summary>
public readonly record struct SourceStamp(long Length, long ModifiedTicks)
{
    public static SourceStamp Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new SourceStamp(info.Length, info.LastWriteTimeUtc.Ticks) : new SourceStamp(-1, -1);
    }
}
