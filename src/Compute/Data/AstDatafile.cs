using System.Text.Json;

namespace ActorTraining.Compute.Data;

/// <summary>
/// Reads the AST reference datafile: {"data":[{"wav": path, "labels": "mid1,mid2"}, ...]}.
/// Relative wav paths resolve against the datafile's folder (the reference uses them as given, relative to its cwd).
/// </summary>
public static class AstDatafile
{
    public static IReadOnlyList<DatasetEntry> Load(string datafileJson)
    {
        var fullPath = Path.GetFullPath(datafileJson);
        if (!File.Exists(fullPath)) throw new DatasetException(fullPath, "datafile not found");
        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(fullPath);
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new DatasetException(fullPath, $"malformed JSON at line {e.LineNumber + 1}: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("data", out var data))
                throw new DatasetException(fullPath, "missing top-level key 'data' (expected {\"data\":[{\"wav\":...,\"labels\":...}]})");
            if (data.ValueKind != JsonValueKind.Array)
                throw new DatasetException(fullPath, $"key 'data' must be an array, found {data.ValueKind}");
            var folder = Path.GetDirectoryName(fullPath)!;
            var entries = new List<DatasetEntry>();
            int index = 0;
            foreach (var item in data.EnumerateArray())
            {
                entries.Add(ReadEntry(fullPath, folder, index, item));
                index++;
            }
            if (entries.Count == 0) throw new DatasetException(fullPath, "empty corpus: 'data' has no entries");
            return entries;
        }
    }

    private static DatasetEntry ReadEntry(string file, string folder, int index, JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
            throw new DatasetException(file, $"data[{index}] must be an object, found {item.ValueKind}");
        var wav = RequiredString(file, index, item, "wav");
        var labels = RequiredString(file, index, item, "labels")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length == 0) throw new DatasetException(file, $"data[{index}] key 'labels' is empty");
        return new DatasetEntry(Path.GetFullPath(wav, folder), labels);
    }

    private static string RequiredString(string file, int index, JsonElement item, string key)
    {
        if (!item.TryGetProperty(key, out var value))
            throw new DatasetException(file, $"data[{index}] is missing key '{key}'");
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            throw new DatasetException(file, $"data[{index}] key '{key}' must be a non-empty string, found {value.ValueKind} {value.GetRawText()}");
        return value.GetString()!;
    }
}
