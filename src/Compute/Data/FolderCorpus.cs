namespace ActorTraining.Compute.Data;

/// <summary>
/// A corpus laid out as one folder per class (root/dog/*.wav, root/rain/*.flac): class = folder name,
/// classes sorted ordinally so the index order is stable across machines.
/// </summary>
public static class FolderCorpus
{
    /// <summary>Extensions taken as audio; everything else in a class folder (README, .csv) is ignored.</summary>
    public static readonly IReadOnlySet<string> AudioExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".mkv", ".webm", ".aif", ".aiff",
    };

    public static (IReadOnlyList<DatasetEntry> Entries, LabelSet Labels) Load(string root)
    {
        var fullRoot = Path.GetFullPath(root);
        if (!Directory.Exists(fullRoot)) throw new DatasetException(fullRoot, "corpus folder not found");
        var classes = Directory.GetDirectories(fullRoot)
            .Select(Path.GetFileName)
            .Where(n => !string.IsNullOrEmpty(n) && !n!.StartsWith('.'))
            .Select(n => n!)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToList();
        if (classes.Count == 0) throw new DatasetException(fullRoot, "no class folders (expected root/<class>/<audio files>)");
        var entries = new List<DatasetEntry>();
        foreach (var cls in classes)
        {
            var files = Directory.EnumerateFiles(Path.Combine(fullRoot, cls), "*", SearchOption.AllDirectories)
                .Where(f => AudioExtensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => f, StringComparer.Ordinal)
                .ToList();
            if (files.Count == 0) throw new DatasetException(Path.Combine(fullRoot, cls), $"class folder '{cls}' has no audio files ({string.Join(' ', AudioExtensions)})");
            entries.AddRange(files.Select(f => new DatasetEntry(f, [cls])));
        }
        return (entries, new LabelSet(classes, classes));
    }
}
