using System.Security.Cryptography;
using System.Text;

namespace ActorTraining.Compute.Data;

/// <summary>
/// What a start learned from reading every entry of its corpus indexes (the data fingerprint, and that every label is
/// in the label list), kept in the index folder for the next start on the same indexes: a resume at 10 M entries then
/// reads none of them. Keyed by each index file's path, length and write time (an index is written once and replaced
/// whole when its datafile changes), the base folders and the label list; any difference reads everything again.
/// </summary>
public static class CheckedCorpusMemo
{
    const string FileName = "checked-corpus";

    /// <summary>The fingerprint a start with these corpora and labels found, or null.</summary>
    public static string? Read(string indexes, IEnumerable<(CorpusIndex Corpus, string BaseFolder)> corpora, LabelSet labels)
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(indexes, FileName));
            return lines.Length == 2 && lines[0] == Key(corpora, labels) ? lines[1] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public static void Write(string indexes, IEnumerable<(CorpusIndex Corpus, string BaseFolder)> corpora, LabelSet labels, string fingerprint)
    {
        var path = Path.Combine(indexes, FileName);
        try
        {
            File.WriteAllLines(path + ".tmp", [Key(corpora, labels), fingerprint]);
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // only a shortcut for the next start
    }

    static string Key(IEnumerable<(CorpusIndex Corpus, string BaseFolder)> corpora, LabelSet labels)
    {
        var text = new StringBuilder();
        foreach (var (corpus, baseFolder) in corpora)
        {
            var file = new FileInfo(corpus.Path);
            text.Append($"{file.FullName}\t{file.Length}\t{file.LastWriteTimeUtc.Ticks}\t{corpus.Count}\t{baseFolder}\n");
        }
        for (int i = 0; i < labels.Count; i++) text.Append($"{labels.Mids[i]}\t{labels.DisplayNames[i]}\n");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
