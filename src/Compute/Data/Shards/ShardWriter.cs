using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// Writes a corpus as WebDataset shards of about <paramref name="targetBytes"/> each: <c>&lt;name&gt;-000000.tar</c>, …,
/// each sample its audio file copied as is (never re-encoded) as <c>&lt;key&gt;.&lt;ext&gt;</c> and its labels as
/// <c>&lt;key&gt;.json</c> (<c>{"labels": "mid1,mid2", "source": "…"}</c>); then the folder's <c>index.json</c> lists
/// every shard (samples, bytes, SHA-256) beside those of other names already there. A key is the entry's ordinal (nine
/// digits) and its file name without extension, every character other than letters, digits, '-' and '_' made '_':
/// WebDataset takes a key up to the first dot, so <c>Y…_30.000.flac</c> becomes <c>000000042_Y…_30_000</c>. Entries are
/// headers of fixed owner, mode and time, so the same corpus gives the same bytes. Resumable: each finished shard is
/// recorded in <c>.&lt;name&gt;.progress</c>, and a rerun continues after the last recorded one.
/// </summary>
public sealed class ShardWriter(string outDirectory, string name, long targetBytes)
{
    public sealed record Progress(int Shards, long Entries, long Bytes);

    string ProgressFile => Path.Combine(outDirectory, $".{name}.progress");

    /// <summary>Writes <paramref name="entries"/>; <paramref name="baseFolder"/> makes each entry's "source" relative.
    /// <paramref name="report"/> hears after every sample; <paramref name="skipped"/> hears of each entry whose file cannot be read.</summary>
    public IReadOnlyList<ShardIndexEntry> Write(IReadOnlyList<DatasetEntry> entries, string baseFolder, Action<Progress> report, Action<string> skipped)
    {
        Directory.CreateDirectory(outDirectory);
        var done = Resume();
        long next = done.Count == 0 ? 0 : done[^1].Next;
        long bytes = done.Sum(d => d.Entry.Bytes);
        var shards = done.Select(d => d.Entry).ToList();
        while (next < entries.Count)
        {
            var shardName = $"{name}-{shards.Count:D6}.tar";
            var path = Path.Combine(outDirectory, shardName);
            var part = path + ".part";
            int samples = 0;
            long size = 0;
            using (var file = new FileStream(part, FileMode.Create, FileAccess.Write))
            using (var tar = new TarWriter(file, TarEntryFormat.Gnu, leaveOpen: true))
            {
                while (next < entries.Count && (samples == 0 || size < targetBytes))
                {
                    var entry = entries[(int)next];
                    var key = KeyOf(next, entry.AudioPath);
                    next++;
                    byte[] audio;
                    try { audio = File.ReadAllBytes(entry.AudioPath); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        skipped($"{entry.AudioPath}: {e.Message}");
                        continue;
                    }
                    var ext = Path.GetExtension(entry.AudioPath).TrimStart('.').ToLowerInvariant();
                    Add(tar, $"{key}.{(ext.Length == 0 ? "audio" : ext)}", audio);
                    Add(tar, $"{key}.json", JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
                    {
                        ["labels"] = string.Join(",", entry.Labels),
                        ["source"] = Path.GetRelativePath(baseFolder, entry.AudioPath),
                    }));
                    samples++;
                    size = file.Position;
                    report(new Progress(shards.Count, next, bytes + size));
                }
            }
            if (samples == 0) { File.Delete(part); break; }
            File.Move(part, path, overwrite: true);
            var info = new ShardIndexEntry(shardName, samples, new FileInfo(path).Length, Sha256(path));
            shards.Add(info);
            bytes += info.Bytes;
            File.AppendAllText(ProgressFile, JsonSerializer.Serialize(new Recorded(info, next)) + "\n");
        }
        WriteIndex(shards);
        File.Delete(ProgressFile);
        return shards;
    }

    sealed record Recorded(ShardIndexEntry Entry, long Next);

    /// <summary>The shards a killed run finished (each still on disk with its recorded size); the rest are written again.</summary>
    List<Recorded> Resume()
    {
        var done = new List<Recorded>();
        if (!File.Exists(ProgressFile)) return done;
        foreach (var line in File.ReadAllLines(ProgressFile))
        {
            Recorded? r;
            try { r = JsonSerializer.Deserialize<Recorded>(line); }
            catch (JsonException) { break; } // a line torn by the kill
            var path = Path.Combine(outDirectory, r?.Entry.Name ?? "");
            if (r is null || !File.Exists(path) || new FileInfo(path).Length != r.Entry.Bytes) break;
            done.Add(r);
        }
        return done;
    }

    void WriteIndex(IReadOnlyList<ShardIndexEntry> shards)
    {
        var path = Path.Combine(outDirectory, ShardIndexFile.FileName);
        var others = File.Exists(path) ? ShardIndexFile.Parse(File.ReadAllText(path), path).Shards.Where(s => !s.Name.StartsWith($"{name}-")).ToList() : [];
        new ShardIndexFile(ShardIndexFile.FormatName, [.. others, .. shards]).Write(path);
    }

    public static string KeyOf(long ordinal, string audioPath)
    {
        var stem = Path.GetFileNameWithoutExtension(audioPath);
        var key = new StringBuilder($"{ordinal:D9}_", 10 + stem.Length);
        foreach (var c in stem) key.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        return key.ToString();
    }

    static void Add(TarWriter tar, string memberName, byte[] data)
    {
        var entry = new GnuTarEntry(TarEntryType.RegularFile, memberName)
        {
            DataStream = new MemoryStream(data, writable: false),
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            Uid = 0,
            Gid = 0,
            UserName = "",
            GroupName = "",
        };
        tar.WriteEntry(entry);
    }

    static string Sha256(string path)
    {
        using var read = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(read));
    }
}
