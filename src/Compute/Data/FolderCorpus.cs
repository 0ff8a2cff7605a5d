namespace ActorTraining.Compute.Data;

/// <summary>
/// A corpus laid out as one folder per class (root/dog/*.wav, root/rain/*.flac): class = folder name,
/// classes sorted ordinally so the index order is stable across machines. <see cref="Classes"/> lists one class's
/// files at a time, so a large corpus goes into a <see cref="CorpusIndex"/> without the whole listing in memory.
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
        var (labels, classes) = Classes(root);
        return (classes.SelectMany(c => c.Files.Select(f => new DatasetEntry(f, [c.Name]))).ToList(), labels);
    }

    /// <summary>
    /// The classes, and a lazy sequence of (class, its audio files sorted ordinally) — each class listed when reached.
    /// </summary>
    public static (LabelSet Labels, IEnumerable<(string Name, IReadOnlyList<string> Files)> Classes) Classes(string root)
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
        return (new LabelSet(classes, classes), classes.Select(cls => (cls, Files(fullRoot, cls))));
    }

    static IReadOnlyList<string> Files(string root, string cls)
    {
        var files = Directory.EnumerateFiles(Path.Combine(root, cls), "*", SearchOption.AllDirectories)
            .Where(f => AudioExtensions.Contains(Path.GetExtension(f)))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new DatasetException(Path.Combine(root, cls), $"class folder '{cls}' has no audio files ({string.Join(' ', AudioExtensions)})");
        return files;
    }
}
