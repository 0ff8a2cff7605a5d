using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// <c>index.json</c> beside a corpus's shards: each shard's file name, sample count, bytes and SHA-256. With it a run
/// knows its corpus without reading a shard, and verifies every shard it fetches; without it, shards are scanned.
/// </summary>
public sealed record ShardIndexFile(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("shards")] IReadOnlyList<ShardIndexEntry> Shards)
{
    public const string FileName = "index.json";
    public const string FormatName = "actortraining-webdataset/1";

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static ShardIndexFile Parse(string json, string where)
    {
        try
        {
            var index = JsonSerializer.Deserialize<ShardIndexFile>(json, Options);
            if (index?.Shards is null || index.Format != FormatName)
                throw new DatasetException(where, $"not a shard index (format '{index?.Format}', expected '{FormatName}')");
            foreach (var s in index.Shards)
                if (string.IsNullOrEmpty(s.Name) || s.Samples < 0 || s.Bytes < 0) throw new DatasetException(where, $"shard entry '{s.Name}' is incomplete");
            if (index.Shards.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new DatasetException(where, $"lists {twice.Key} {twice.Count()} times");
            return index;
        }
        catch (JsonException e) { throw new DatasetException(where, $"not JSON: {e.Message}"); }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Writes the index atomically (a reader sees the old one or the new one).</summary>
    public void Write(string path)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, ToJson());
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>One shard of an <see cref="ShardIndexFile"/>: its file name (relative to the index), samples, bytes, SHA-256 (hex).</summary>
public sealed record ShardIndexEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("sha256")] string? Sha256);
