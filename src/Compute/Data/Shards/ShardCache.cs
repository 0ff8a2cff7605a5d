using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>Where a node keeps remote shards: a folder, its byte limit, and how long a source may stay away.</summary>
public sealed record ShardCacheSettings(string Directory, long MaxBytes, TimeSpan SourceTimeout);

/// <summary>A shard ready to read on this node: its local file and its samples.</summary>
public sealed record LocalShard(ShardInfo Info, string Path, ShardMembers Members);

/// <summary>
/// The node's shard cache, one per folder in a process and shared by the node's ranks. A remote shard (HTTP, S3) is
/// downloaded whole into the folder (<see cref="ShardDownload"/>: atomic, resumed, verified against the index's
/// SHA-256; a corrupt copy is fetched again, up to three times; a verified copy is marked so a later process need not
/// hash it again), then scanned once. Whole shards are evicted in
/// least-recently-used order to stay under the byte limit; only files this cache names (<c>&lt;hash&gt;.tar</c>) in
/// its own folder are ever deleted, and a local shard is read where it is, never copied nor deleted.
/// <see cref="Prefetch"/> starts downloads ahead of use (at most <see cref="ParallelDownloads"/> at a time).
/// </summary>
public sealed class ShardCache
{
    const int ParallelDownloads = 4;
    const int CorruptAttempts = 3;
    static readonly ConcurrentDictionary<string, ShardCache> Caches = new();

    readonly ShardCacheSettings _settings;
    readonly ConcurrentDictionary<string, Lazy<Task<LocalShard>>> _shards = new();
    readonly ConcurrentDictionary<string, (long Bytes, long LastUse)> _files = new();
    readonly ConcurrentDictionary<string, ShardCorruptException> _broken = new();
    readonly Dictionary<string, DateTime> _noticed = new();
    readonly SemaphoreSlim _downloads = new(ParallelDownloads);
    readonly object _evicting = new();
    long _clock;

    ShardCache(ShardCacheSettings settings)
    {
        _settings = settings;
        System.IO.Directory.CreateDirectory(settings.Directory);
        foreach (var file in new DirectoryInfo(settings.Directory).EnumerateFiles("*.tar"))
            if (IsOurs(file.Name)) _files[file.FullName] = (file.Length, file.LastWriteTimeUtc.Ticks - DateTime.UtcNow.Ticks);
    }

    public static ShardCache For(ShardCacheSettings settings) =>
        Caches.GetOrAdd(System.IO.Path.GetFullPath(settings.Directory), d => new ShardCache(settings with { Directory = d }));

    public ShardCacheSettings Settings => _settings;

    /// <summary>Hears, at most once a minute per host, that a source failed and is being retried.</summary>
    public Action<string> Notice { get; set; } = _ => { };

    void Tell(string url, string message)
    {
        var host = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : url;
        var now = DateTime.UtcNow;
        lock (_noticed) // downloads run in parallel: one of them tells
        {
            if (_noticed.TryGetValue(host, out var last) && now - last < TimeSpan.FromMinutes(1)) return;
            _noticed[host] = now;
        }
        Notice(message);
    }

    /// <summary>Bytes of shards held in the folder now.</summary>
    public long HeldBytes => _files.Values.Sum(f => f.Bytes);

    /// <summary>Refuses, with a sentence, a byte limit below <paramref name="neededBytes"/> (what the shuffle windows being read at once take).</summary>
    public void CheckRoom(long neededBytes, string why)
    {
        if (neededBytes > _settings.MaxBytes)
            throw new Training.ConfigException("data.shard-cache.max-gb",
                $"is {_settings.MaxBytes / 1e9:G3} GB, below the {neededBytes / 1e9:G3} GB that {why} need at once; raise it, or lower data.shuffle-window-shards or the shard size");
    }

    /// <summary>The shard, local and scanned; downloads it first when remote and not held. Blocks the calling thread.</summary>
    public LocalShard Open(ShardInfo shard, CancellationToken cancel = default)
    {
        if (_broken.TryGetValue(shard.Url, out var broken)) throw broken; // corrupt at its source: fetched three times already
        while (true)
        {
            var entry = _shards.GetOrAdd(shard.Url, _ => new Lazy<Task<LocalShard>>(() => Load(shard, cancel)));
            try
            {
                var local = entry.Value.GetAwaiter().GetResult();
                if (ShardUrls.IsRemote(shard.Url))
                {
                    if (!File.Exists(local.Path)) { _shards.TryRemove(new(shard.Url, entry)); continue; } // evicted meanwhile
                    Touch(local.Path);
                }
                return local;
            }
            catch (Exception e)
            {
                if (e is ShardCorruptException corrupt) _broken[shard.Url] = corrupt; // the same bytes at the source: told once, not fetched again
                _shards.TryRemove(new(shard.Url, entry)); // an unreachable source is not remembered: the next read tries again
                throw;
            }
        }
    }

    /// <summary>Starts fetching a remote shard in the background (a failure shows when it is opened).</summary>
    public void Prefetch(ShardInfo shard)
    {
        if (!ShardUrls.IsRemote(shard.Url) || _broken.ContainsKey(shard.Url)) return;
        var entry = _shards.GetOrAdd(shard.Url, _ => new Lazy<Task<LocalShard>>(() => Load(shard, CancellationToken.None)));
        _ = entry.Value.ContinueWith(t => { if (t.IsFaulted) _shards.TryRemove(new(shard.Url, entry)); }, TaskScheduler.Default);
    }

    async Task<LocalShard> Load(ShardInfo shard, CancellationToken cancel)
    {
        await Task.Yield();
        if (!ShardUrls.IsRemote(shard.Url))
        {
            if (!File.Exists(shard.Url)) throw new ShardNotFoundException(shard.Url, "no such file");
            return Scanned(shard, shard.Url); // the source itself: read in place, never hashed again at each start
        }
        var path = PathOf(shard.Url);
        for (int attempt = 1; ; attempt++)
        {
            if (File.Exists(path) && (shard.Sha256 is null || Verified(path, shard.Sha256) || await Matches(path, shard.Sha256, cancel)))
            {
                Touch(path);
                return Scanned(shard, path);
            }
            File.Delete(path); // ours, in our folder: a torn or corrupt copy
            File.Delete(MarkOf(path));
            _files.TryRemove(path, out _);
            await _downloads.WaitAsync(cancel);
            try
            {
                MakeRoom(shard.Bytes, keep: path);
                File.Delete(MarkOf(path));
                var bytes = await ShardDownload.FetchAsync(ShardSource.Of(shard.Url), path, shard.Sha256, _settings.SourceTimeout, cancel,
                    message => Tell(shard.Url, message));
                _files[path] = (bytes, Interlocked.Increment(ref _clock));
                if (shard.Sha256 is not null) Mark(path, shard.Sha256);
                MakeRoom(0, keep: path);
                return Scanned(shard, path);
            }
            catch (ShardCorruptException) when (attempt < CorruptAttempts) { }
            catch (ShardCorruptException e)
            {
                _broken[shard.Url] = e;
                throw;
            }
            finally { _downloads.Release(); }
        }
    }

    static LocalShard Scanned(ShardInfo shard, string path)
    {
        var members = ShardMembers.Scan(path);
        if (members.Samples.Count == 0) throw new ShardCorruptException(shard.Url, members.Problem ?? "holds no sample");
        return new LocalShard(shard, path, members);
    }

    static async Task<bool> Matches(string path, string sha256, CancellationToken cancel)
    {
        bool matches;
        await using (var read = File.OpenRead(path)) matches = Convert.ToHexStringLower(await SHA256.HashDataAsync(read, cancel)) == sha256;
        if (matches) Mark(path, sha256);
        return matches;
    }

    // A shard verified once carries a mark of its hash, length and write time beside it: a later process trusts the file
    // while both are unchanged instead of hashing every shard again at each start (128 windows' shards of 256 MB: 20 s)
    static string MarkOf(string path) => path + ".verified";

    static void Mark(string path, string sha256)
    {
        var info = new FileInfo(path);
        File.WriteAllText(MarkOf(path), $"{sha256}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}");
    }

    static bool Verified(string path, string sha256)
    {
        var info = new FileInfo(path);
        try { return File.ReadAllText(MarkOf(path)) == $"{sha256}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}"; }
        catch (IOException) { return false; }
    }

    void Touch(string path)
    {
        if (_files.TryGetValue(path, out var f)) _files[path] = (f.Bytes, Interlocked.Increment(ref _clock));
    }

    /// <summary>Evicts least-recently-used shards (never <paramref name="keep"/>) until <paramref name="incoming"/> more bytes fit.</summary>
    void MakeRoom(long incoming, string keep)
    {
        lock (_evicting)
        {
            long held = HeldBytes;
            foreach (var (path, _) in _files.Where(f => f.Key != keep).OrderBy(f => f.Value.LastUse).ToList())
            {
                if (held + incoming <= _settings.MaxBytes) break;
                if (!_files.TryRemove(path, out var f)) continue;
                File.Delete(path); // readers that have it open keep reading: the inode lives until they close it
                File.Delete(MarkOf(path));
                held -= f.Bytes;
                foreach (var (url, entry) in _shards)
                    if (ShardUrls.IsRemote(url) && PathOf(url) == path) _shards.TryRemove(new(url, entry));
            }
        }
    }

    string PathOf(string url) => System.IO.Path.Combine(_settings.Directory, FileNameOf(url));

    /// <summary>The name a remote shard has in a cache folder: a hash of its URL.</summary>
    public static string FileNameOf(string url) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url)))[..32] + ".tar";

    static bool IsOurs(string name) => name.Length == 36 && name.EndsWith(".tar") && name[..32].All(char.IsAsciiHexDigitLower);
}
