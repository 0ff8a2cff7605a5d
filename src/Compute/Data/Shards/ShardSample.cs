using System.Text.Json;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// A training sample read from a local shard: its key, its audio member (bytes and extension, in any format we decode)
/// and its labels, from <c>&lt;key&gt;.json</c> (<c>{"labels": "mid1,mid2"}</c>, as an AST datafile entry, or a list)
/// or <c>&lt;key&gt;.cls</c> (a class index into the label CSV, or label ids separated by commas).
/// </summary>
public sealed record ShardSample(string Key, string AudioExtension, byte[] Audio, IReadOnlyList<string> Labels)
{
    /// <summary>Extensions read as audio, in the order a sample's members are tried.</summary>
    public static readonly string[] AudioExtensions = ["flac", "wav", "mp3", "ogg", "opus", "m4a", "aac", "aiff", "aif", "wma", "webm", "mp4", "mkv", "mka"];

    /// <summary>Reads sample <paramref name="spans"/> of the shard file at <paramref name="path"/>; a sample without audio or
    /// labels, or with a label <paramref name="labels"/> does not list, is a <see cref="DatasetException"/> naming
    /// <paramref name="shardUrl"/> and the key.</summary>
    public static ShardSample Read(string path, string shardUrl, ShardSampleSpans spans, LabelSet labels)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 12);
        var (audio, ids) = Checked(file, shardUrl, spans, labels);
        return new ShardSample(spans.Key, Normal(audio.Extension), Bytes(file, audio, $"{shardUrl}: sample '{spans.Key}'"), ids);
    }

    /// <summary>The sample's labels alone (its audio member found, not read), checked as <see cref="Read"/> checks them.</summary>
    public static IReadOnlyList<string> LabelsOf(string path, string shardUrl, ShardSampleSpans spans, LabelSet labels)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 12);
        return Checked(file, shardUrl, spans, labels).Labels;
    }

    static (MemberSpan Audio, IReadOnlyList<string> Labels) Checked(FileStream file, string shardUrl, ShardSampleSpans spans, LabelSet labels)
    {
        string where = $"{shardUrl}: sample '{spans.Key}'";
        var audio = AudioExtensions.Select(e => spans.Members.FirstOrDefault(m => Normal(m.Extension) == e)).FirstOrDefault(m => m.Extension is not null);
        if (audio.Extension is null) audio = spans.Members.FirstOrDefault(m => Normal(m.Extension) is not ("json" or "cls" or "txt")); // decoded by its bytes, whatever its name
        if (audio.Extension is null) throw new DatasetException(where, $"has no audio member (members: {string.Join(", ", spans.Members.Select(m => m.Extension))})");
        var ids = Labels(file, spans, where);
        foreach (var id in ids)
            if (labels.IndexOf(id) < 0) throw new DatasetException(where, $"label '{id}' is not in the label list ({labels.Count} classes)");
        return (audio, ids);

        IReadOnlyList<string> Labels(FileStream file, ShardSampleSpans spans, string where)
        {
            var json = spans.Members.FirstOrDefault(m => Normal(m.Extension) == "json");
            if (json.Extension is not null)
            {
                try
                {
                    using var doc = JsonDocument.Parse(Bytes(file, json, where));
                    if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("labels", out var l))
                        return l.ValueKind switch
                        {
                            JsonValueKind.String => Split(l.GetString()!),
                            JsonValueKind.Array => l.EnumerateArray().Select(e => e.ToString().Trim()).Where(s => s.Length > 0).ToList(),
                            _ => throw new DatasetException(where, $"'labels' in {spans.Key}.{json.Extension} is neither a string nor a list"),
                        };
                }
                catch (JsonException e) { throw new DatasetException(where, $"{spans.Key}.{json.Extension} is not JSON: {e.Message}"); }
            }
            var cls = spans.Members.FirstOrDefault(m => Normal(m.Extension) == "cls");
            if (cls.Extension is not null)
            {
                var text = System.Text.Encoding.UTF8.GetString(Bytes(file, cls, where)).Trim();
                if (int.TryParse(text, out var index))
                    return index >= 0 && index < labels.Count ? [labels.Mids[index]] : throw new DatasetException(where, $"class index {index} is not in the label list ({labels.Count} classes)");
                return Split(text);
            }
            throw new DatasetException(where, "has no labels (neither a .json with \"labels\" nor a .cls member)");
        }
    }

    static IReadOnlyList<string> Split(string labels) => labels.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    // "flac" of "flac", "FLAC", and of WebDataset's compound extensions such as "seg0.flac"
    static string Normal(string extension) => extension[(extension.LastIndexOf('.') + 1)..].ToLowerInvariant();

    static byte[] Bytes(FileStream file, MemberSpan span, string where)
    {
        if (span.Length > int.MaxValue) throw new DatasetException(where, $"member .{span.Extension} is {span.Length} bytes, more than a clip can be");
        var bytes = new byte[span.Length];
        file.Position = span.Offset;
        file.ReadExactly(bytes);
        return bytes;
    }
}
