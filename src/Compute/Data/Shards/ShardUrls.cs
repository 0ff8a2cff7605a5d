using System.Text.RegularExpressions;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// Shard lists as WebDataset writes them: each entry a path or URL with brace ranges, <c>train-{000000..001999}.tar</c>
/// (zero-padded to the first bound's width) or alternatives <c>{a,b}</c>, several per entry. An entry that expands to
/// nothing is an error naming it, never an empty corpus.
/// </summary>
public static partial class ShardUrls
{
    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"^(\d+)\.\.(\d+)$")]
    private static partial Regex Range();

    /// <summary>Every URL of <paramref name="entries"/>, in order; <paramref name="key"/> names the setting in errors.</summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> entries, string key)
    {
        var result = new List<string>();
        foreach (var entry in entries)
        {
            var expanded = Expand(entry.Trim()).ToList();
            if (expanded.Count == 0) throw new DatasetException(key, $"'{entry}' expands to no shard");
            result.AddRange(expanded);
        }
        if (result.Count == 0) throw new DatasetException(key, "lists no shard");
        return result;
    }

    static IEnumerable<string> Expand(string pattern)
    {
        var m = Braces().Match(pattern);
        if (!m.Success)
        {
            if (pattern.Length > 0) yield return pattern;
            yield break;
        }
        string head = pattern[..m.Index], tail = pattern[(m.Index + m.Length)..];
        foreach (var choice in Choices(m.Groups[1].Value, pattern))
            foreach (var rest in Expand(tail))
                yield return head + choice + rest;
    }

    static IEnumerable<string> Choices(string inside, string pattern)
    {
        if (Range().Match(inside) is { Success: true } r)
        {
            var (from, to) = (long.Parse(r.Groups[1].Value), long.Parse(r.Groups[2].Value));
            if (to - from > 10_000_000) throw new DatasetException(pattern, $"brace range {{{inside}}} holds more than 10 million shards");
            int width = r.Groups[1].Value.Length;
            for (long i = from; i <= to; i++) yield return i.ToString().PadLeft(width, '0');
            yield break;
        }
        if (!inside.Contains(',')) throw new DatasetException(pattern, $"'{{{inside}}}' is neither a range a..b nor alternatives a,b");
        foreach (var choice in inside.Split(',')) yield return choice;
    }

    /// <summary>Resolves a relative shard entry against <paramref name="baseUrl"/> (an index.json's folder or URL prefix).</summary>
    public static string Resolve(string url, string baseUrl)
    {
        if (IsRemote(url) || Path.IsPathRooted(url)) return url;
        if (IsRemote(baseUrl)) return baseUrl.TrimEnd('/') + "/" + url;
        return Path.GetFullPath(url, baseUrl);
    }

    public static bool IsRemote(string url) => url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The folder or URL prefix a URL is in.</summary>
    public static string Parent(string url) => IsRemote(url) ? url[..(url.LastIndexOf('/') + 1)] : Path.GetDirectoryName(Path.GetFullPath(url))!;
}
