using System.Security.Cryptography;
using System.Text;

namespace ActorTraining.Compute.Data;

/// <summary>
/// What a run's data is, as a SHA-256 (hex): for each corpus (train, then eval) every entry in order — its audio path
/// relative to the corpus's base folder (the datafile's folder, or the class-folder root) and its labels — and the
/// label list. It changes when a datafile is edited (an entry added, removed, relabelled or reordered: a saved data
/// position would then point at other clips), not when the whole corpus moves to another folder with its relative
/// paths, nor when a datafile is only reformatted.
/// </summary>
public static class CorpusFingerprint
{
    public static string Of(IEnumerable<(CorpusIndex Corpus, string BaseFolder)> corpora, LabelSet labels)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => sha.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        foreach (var (corpus, baseFolder) in corpora)
        {
            Add($"corpus {corpus.Count}");
            for (int i = 0; i < corpus.Count; i++)
            {
                var entry = corpus[i];
                Add($"{Path.GetRelativePath(baseFolder, entry.AudioPath)}\t{string.Join(",", entry.Labels)}");
            }
        }
        Add($"labels {labels.Count}");
        for (int i = 0; i < labels.Count; i++) Add($"{labels.Mids[i]}\t{labels.DisplayNames[i]}");
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
