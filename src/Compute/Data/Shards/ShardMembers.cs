using System.Formats.Tar;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>One member of a sample: its extension (what follows the key's first dot) and where its bytes are in the shard file.</summary>
public readonly record struct MemberSpan(string Extension, long Offset, long Length);

/// <summary>A WebDataset sample: the consecutive members sharing a key, where they lie in the shard.</summary>
public sealed record ShardSampleSpans(string Key, IReadOnlyList<MemberSpan> Members);

/// <summary>
/// The samples of a local tar shard, as WebDataset groups them: a member's key is its path up to the first dot of its
/// file name, its extension the rest; consecutive members with one key are one sample; members without a dot and
/// directories are ignored. Only the headers are read (the tar's own layout says where each member's bytes are). A
/// shard that is not a tar, or ends inside a member, keeps the samples read whole before it and says why in
/// <see cref="Problem"/>.
/// </summary>
public sealed class ShardMembers
{
    public required IReadOnlyList<ShardSampleSpans> Samples { get; init; }

    /// <summary>Why reading stopped early (not a tar, truncated), or null when the whole shard was read.</summary>
    public string? Problem { get; init; }

    public static ShardMembers Scan(string path)
    {
        var samples = new List<ShardSampleSpans>();
        string? problem = null;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16);
        long length = file.Length;
        string? key = null;
        var members = new List<MemberSpan>();
        try
        {
            using var tar = new TarReader(file, leaveOpen: true);
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                if (entry.DataOffset < 0 || entry.DataOffset + entry.Length > length)
                {
                    problem = $"truncated inside member '{entry.Name}' ({length} bytes)";
                    break;
                }
                var (memberKey, extension) = Split(entry.Name);
                if (memberKey is null) continue;
                if (memberKey != key)
                {
                    if (key is not null) samples.Add(new ShardSampleSpans(key, members.ToArray()));
                    key = memberKey;
                    members.Clear();
                }
                members.Add(new MemberSpan(extension!, entry.DataOffset, entry.Length));
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            problem = samples.Count == 0 && key is null ? $"not a tar archive ({e.Message})" : $"unreadable after sample {samples.Count} ({e.Message})";
            key = null;
        }
        if (key is not null && problem is null) samples.Add(new ShardSampleSpans(key, members.ToArray()));
        return new ShardMembers { Samples = samples, Problem = problem };
    }

    /// <summary>WebDataset's split of a member name: (directory + file name up to its first dot, the rest).</summary>
    public static (string? Key, string? Extension) Split(string name)
    {
        int slash = name.LastIndexOf('/');
        int dot = name.IndexOf('.', slash + 1);
        if (dot <= slash + 1 || dot == name.Length - 1) return (null, null);
        return (name[..dot], name[(dot + 1)..]);
    }
}
