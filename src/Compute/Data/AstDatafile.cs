using System.Text.Json;

namespace ActorTraining.Compute.Data;

/// <summary>
/// Reads the AST reference datafile: {"data":[{"wav": path, "labels": "mid1,mid2"}, ...]}.
/// Relative wav paths resolve against the datafile's folder (the reference uses them as given, relative to its cwd).
/// <see cref="Read"/> streams the file entry by entry (large corpora go into a <see cref="CorpusIndex"/>);
/// <see cref="Load"/> keeps them all, for small lists.
/// </summary>
public static class AstDatafile
{
    public static IReadOnlyList<DatasetEntry> Load(string datafileJson) => Read(datafileJson).ToList();

    /// <summary>The entries in file order, parsed as they are enumerated; errors name the file, entry index and key.</summary>
    public static IEnumerable<DatasetEntry> Read(string datafileJson)
    {
        var fullPath = Path.GetFullPath(datafileJson);
        if (InputFile.Problem(fullPath) is { } problem) throw new DatasetException(fullPath, problem);
        if (!File.Exists(fullPath)) throw new DatasetException(fullPath, "datafile not found");
        return Entries(fullPath);
    }

    static IEnumerable<DatasetEntry> Entries(string file)
    {
        const string missingData = "missing top-level key 'data' (expected {\"data\":[{\"wav\":...,\"labels\":...}]})";
        var folder = Path.GetDirectoryName(file)!;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        var json = new StreamingJsonReader(stream, file);
        if (!json.Read() || json.Token != JsonTokenType.StartObject) throw new DatasetException(file, missingData);
        bool sawData = false;
        int index = 0;
        while (true)
        {
            json.ReadExpecting("the end of the top-level object");
            if (json.Token == JsonTokenType.EndObject) break;
            var key = json.Text;
            json.ReadExpecting($"the value of '{key}'");
            if (key != "data" || sawData)
            {
                json.SkipValue();
                continue;
            }
            sawData = true;
            if (json.Token != JsonTokenType.StartArray)
                throw new DatasetException(file, $"key 'data' must be an array, found {json.Kind}");
            while (true)
            {
                json.ReadExpecting($"the end of 'data' (after {index} entries)");
                if (json.Token == JsonTokenType.EndArray) break;
                yield return ReadEntry(json, file, folder, index);
                index++;
            }
        }
        while (json.Read()) { } // anything after the top-level object is malformed JSON, which Read reports
        if (!sawData) throw new DatasetException(file, missingData);
        if (index == 0) throw new DatasetException(file, "empty corpus: 'data' has no entries");
    }

    static DatasetEntry ReadEntry(StreamingJsonReader json, string file, string folder, int index)
    {
        if (json.Token != JsonTokenType.StartObject)
            throw new DatasetException(file, $"data[{index}] must be an object, found {json.Kind}");
        string? wav = null, labels = null;
        while (true)
        {
            json.ReadExpecting($"the end of data[{index}]");
            if (json.Token == JsonTokenType.EndObject) break;
            var key = json.Text;
            json.ReadExpecting($"the value of data[{index}] key '{key}'");
            if (key is "wav") wav = RequiredString(json, file, index, key);
            else if (key is "labels") labels = RequiredString(json, file, index, key);
            else json.SkipValue();
        }
        if (wav is null) throw new DatasetException(file, $"data[{index}] is missing key 'wav'");
        if (labels is null) throw new DatasetException(file, $"data[{index}] is missing key 'labels'");
        var split = labels.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (split.Length == 0) throw new DatasetException(file, $"data[{index}] key 'labels' is empty");
        if (wav.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            throw new DatasetException(file, $"data[{index}] key 'wav' holds a character no file path may contain (NUL)");
        return new DatasetEntry(Path.GetFullPath(wav, folder), split);
    }

    static string RequiredString(StreamingJsonReader json, string file, int index, string key)
    {
        if (json.Token != JsonTokenType.String || string.IsNullOrWhiteSpace(json.Text))
            throw new DatasetException(file, $"data[{index}] key '{key}' must be a non-empty string, found {json.Kind} {json.Shown}");
        return json.Text!;
    }
}
