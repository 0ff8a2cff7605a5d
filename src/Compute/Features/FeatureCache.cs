using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace ActorTraining.Compute.Features;

/// <summary>
/// Fbanks computed once per clip and front end, read back in later epochs, phases and evaluations instead of decoding
/// the audio and computing them again. One file per (clip path, frame shift, mel bins, decoded length, precision) under
/// <see cref="FeatureCacheSettings.Directory"/>: a 64-byte header (magic, shape, the clip's sample count, the source
/// file's length and modification time, an XxHash3 of the payload) and the values. A source whose length or modification
/// time differs from the header's is stale: computed again and the file replaced, so an edited clip is never served
/// from the cache. A file that fails its hash or header (a torn or corrupted write) is counted and computed again.
/// Files are written to a temporary name and renamed into place, so several workers, ranks and processes may share one
/// folder (the run directory is shared by a cluster's nodes). Thread-safe; one instance per folder per process.
/// </summary>
public sealed class FeatureCache
{
    const int HeaderBytes = 64;
    static readonly byte[] Magic = "ATFBANK1"u8.ToArray();
    static readonly ConcurrentDictionary<string, FeatureCache> Open = new();

    readonly FeatureCacheSettings _settings;
    long _bytes;
    long _hits, _misses, _stale, _corrupt, _refused;
    int _fullReported;

    FeatureCache(FeatureCacheSettings settings)
    {
        _settings = settings;
        Directory.CreateDirectory(settings.Directory);
        // what the folder holds already (an earlier run, another process): the size limit is on the whole folder
        _bytes = new DirectoryInfo(settings.Directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
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

    public FeatureCacheSettings Settings => _settings;

    /// <summary>Counts since the process opened the folder: served, computed (absent), computed (source changed), computed (file damaged), not stored (limit reached).</summary>
    public (long Hits, long Misses, long Stale, long Corrupt, long Refused, long Bytes) Statistics =>
        (Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), Interlocked.Read(ref _stale), Interlocked.Read(ref _corrupt),
         Interlocked.Read(ref _refused), Interlocked.Read(ref _bytes));

    /// <summary>Bytes a clip of <paramref name="frames"/> × <paramref name="melBins"/> takes on disk.</summary>
    public long EntryBytes(int frames, int melBins) => HeaderBytes + (long)frames * melBins * ValueBytes;

    int ValueBytes => _settings.Precision == FeaturePrecision.Float16 ? 2 : 4;

    /// <summary>The cached fbank of <paramref name="key"/>'s clip whose file is now <paramref name="source"/>, or null (absent, stale or damaged: the caller computes and <see cref="Store"/>s it).</summary>
    public CachedFbank? Read(FeatureKey key, SourceStamp source)
    {
        var path = PathOf(key);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            Span<byte> header = stackalloc byte[HeaderBytes];
            if (RandomAccess.Read(handle, header, 0) != HeaderBytes || !header[..8].SequenceEqual(Magic)) return Damaged(path);
            int frames = BinaryPrimitives.ReadInt32LittleEndian(header[8..]), mel = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            int valueBytes = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
            long samples = BinaryPrimitives.ReadInt64LittleEndian(header[20..]);
            var stamp = new SourceStamp(BinaryPrimitives.ReadInt64LittleEndian(header[28..]), BinaryPrimitives.ReadInt64LittleEndian(header[36..]));
            ulong hash = BinaryPrimitives.ReadUInt64LittleEndian(header[44..]);
            if (mel != key.MelBins || valueBytes != ValueBytes || frames < 0 || samples < 0 || RandomAccess.GetLength(handle) != EntryBytes(frames, mel))
                return Damaged(path);
            if (stamp != source) { Interlocked.Increment(ref _stale); return null; }
            var values = new float[frames * mel];
            ulong actual;
            if (valueBytes == 4)
            {
                var bytes = MemoryMarshal.AsBytes(values.AsSpan()); // read straight into the result: no second buffer
                if (RandomAccess.Read(handle, bytes, HeaderBytes) != bytes.Length) return Damaged(path);
                actual = XxHash3.HashToUInt64(bytes);
            }
            else
            {
                var halves = new Half[values.Length];
                var bytes = MemoryMarshal.AsBytes(halves.AsSpan());
                if (RandomAccess.Read(handle, bytes, HeaderBytes) != bytes.Length) return Damaged(path);
                actual = XxHash3.HashToUInt64(bytes);
                for (int i = 0; i < halves.Length; i++) values[i] = (float)halves[i];
            }
            if (actual != hash) return Damaged(path);
            Interlocked.Increment(ref _hits);
            return new CachedFbank(values, frames, samples);
        }
        catch (FileNotFoundException) { Interlocked.Increment(ref _misses); return null; }
        catch (DirectoryNotFoundException) { Interlocked.Increment(ref _misses); return null; }
        catch (IOException) { return Damaged(path); }
    }

    CachedFbank? Damaged(string path)
    {
        Interlocked.Increment(ref _corrupt);
        try
        {
            long length = new FileInfo(path).Length;
            File.Delete(path);
            Interlocked.Add(ref _bytes, -length); // the size limit counts what the folder holds
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>
    /// Stores a computed fbank of the source as it was before it was decoded (<paramref name="source"/>: a clip edited while
    /// it was decoded is then stale at the next read, not cached with the new stamp) ([frames, mel] row-major; float16 values must already be rounded, see
    /// <see cref="RoundToPrecision"/>). Returns false when it was not stored: the size limit is reached (the first time,
    /// <paramref name="onFull"/> is called once with the folder and the limit) or the disk refused the write (the cache is
    /// an optimisation: a failure to store never fails the clip).
    /// </summary>
    public bool Store(FeatureKey key, SourceStamp source, float[] values, int frames, long samples, Action<string>? onFull = null)
    {
        long size = EntryBytes(frames, key.MelBins);
        if (Interlocked.Add(ref _bytes, size) > _settings.MaxBytes)
        {
            Interlocked.Add(ref _bytes, -size);
            Interlocked.Increment(ref _refused);
            if (Interlocked.Exchange(ref _fullReported, 1) == 0)
                onFull?.Invoke($"the feature cache {_settings.Directory} reached its limit of {_settings.MaxBytes / 1e9:G3} GB " +
                               "(data.cache.max-gb): clips not in it are decoded and computed each time they are read");
            return false;
        }
        var path = PathOf(key);
        var temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ReadOnlySpan<byte> payload = _settings.Precision == FeaturePrecision.Float16 ? HalfBytes(values) : MemoryMarshal.AsBytes(values.AsSpan());
            var header = new byte[HeaderBytes];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), frames);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), key.MelBins);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), ValueBytes);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(20), samples);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(28), source.Length);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(36), source.ModifiedTicks);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(44), XxHash3.HashToUInt64(payload));
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(header);
                stream.Write(payload);
            }
            long replaced = File.Exists(path) ? new FileInfo(path).Length : 0;
            File.Move(temporary, path, overwrite: true);
            if (replaced > 0) Interlocked.Add(ref _bytes, -replaced);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Add(ref _bytes, -size);
            try { File.Delete(temporary); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }

    /// <summary>
    /// Values as the cache's precision keeps them. Applied to every fbank of a run with a float16 cache, cached or not
    /// (a clip past the size limit, a mixed clip), so a run's inputs do not depend on what happened to be in the cache.
    /// </summary>
    public static void RoundToPrecision(float[] values, FeaturePrecision precision)
    {
        if (precision != FeaturePrecision.Float16) return;
        for (int i = 0; i < values.Length; i++) values[i] = (float)(Half)values[i];
    }

    static byte[] HalfBytes(float[] values)
    {
        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++) halves[i] = (Half)values[i];
        return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
    }

    /// <summary>The entry's file: named by a hash of what determines its values (not of the source's stamp, so a changed clip replaces its old entry).</summary>
    public string PathOf(FeatureKey key)
    {
        var identity = $"{(key.AudioPath.Contains("://") ? key.AudioPath : Path.GetFullPath(key.AudioPath))}\n{key.FrameShiftMs:R}\n{key.MelBins}\n{key.MaxSeconds:R}\n{_settings.Precision}" +
            (key.StartSeconds == 0 ? "" : $"\n{key.StartSeconds:R}"); // a clip from its start keeps the name it always had
        var name = Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(identity)));
        return Path.Combine(_settings.Directory, name[..2], name + ".fbank");
    }
}

/// <summary>What a cached fbank is of: the clip and the front end that computed it (the decoded length is part of it: a longer
/// input length decodes more of a clip), and where in the file it starts (a window of a longer recording).</summary>
public sealed record FeatureKey(string AudioPath, double FrameShiftMs, int MelBins, double MaxSeconds, double StartSeconds = 0);

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
