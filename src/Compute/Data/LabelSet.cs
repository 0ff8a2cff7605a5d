namespace ActorTraining.Compute.Data;

/// <summary>The classes of a corpus in index order: mid (AudioSet id or folder name) and display name.</summary>
public sealed record LabelSet(IReadOnlyList<string> Mids, IReadOnlyList<string> DisplayNames)
{
    private readonly Dictionary<string, int> _index = BuildIndex(Mids, DisplayNames);

    public int Count => Mids.Count;

    /// <summary>Index of a mid; -1 when the label set does not contain it.</summary>
    public int IndexOf(string mid) => _index.TryGetValue(mid, out var i) ? i : -1;

    private static Dictionary<string, int> BuildIndex(IReadOnlyList<string> mids, IReadOnlyList<string> names)
    {
        if (mids.Count != names.Count)
            throw new ArgumentException($"label set has {mids.Count} mids but {names.Count} display names");
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < mids.Count; i++)
            if (!index.TryAdd(mids[i], i))
                throw new ArgumentException($"label set lists mid '{mids[i]}' twice (indices {index[mids[i]]} and {i})");
        return index;
    }
}
