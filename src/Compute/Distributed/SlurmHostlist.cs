using System.Text;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// Slurm's hostlist expressions (<c>SLURM_STEP_NODELIST</c>, <c>SLURM_JOB_NODELIST</c>): names separated by commas, each
/// with bracketed ranges and lists — <c>gpu[01-03,07],login2</c> is gpu01, gpu02, gpu03, gpu07, login2; a range keeps
/// its start's zero padding; several brackets in one name multiply (<c>r[1-2]n[1-2]</c>: r1n1, r1n2, r2n1, r2n2).
/// </summary>
public static class SlurmHostlist
{
    /// <summary>The names, in Slurm's order; a <see cref="ConfigException"/> naming <paramref name="variable"/> for a malformed list.</summary>
    public static IReadOnlyList<string> Expand(string list, string variable)
    {
        var names = new List<string>();
        foreach (var element in TopLevel(list, variable))
            names.AddRange(ExpandOne(element, variable, list));
        if (names.Count == 0) throw new ConfigException(variable, "names no node");
        return names;
    }

    static IEnumerable<string> TopLevel(string list, string variable)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] == '[' && ++depth > 1 || list[i] == ']' && --depth < 0)
                throw new ConfigException(variable, $"'{list}' has unbalanced brackets");
            if (list[i] == ',' && depth == 0)
            {
                if (i > start) yield return list[start..i].Trim();
                start = i + 1;
            }
        }
        if (depth != 0) throw new ConfigException(variable, $"'{list}' has unbalanced brackets");
        if (start < list.Length && list[start..].Trim().Length > 0) yield return list[start..].Trim();
    }

    static IEnumerable<string> ExpandOne(string element, string variable, string list)
    {
        int open = element.IndexOf('[');
        if (open < 0) return [element];
        int close = element.IndexOf(']', open);
        string prefix = element[..open], body = element[(open + 1)..close], rest = element[(close + 1)..];
        var tails = ExpandOne(rest, variable, list).ToList();
        return Values(body, variable, list).SelectMany(v => tails.Select(t => prefix + v + t));
    }

    static IEnumerable<string> Values(string body, string variable, string list)
    {
        foreach (var part in body.Split(',', StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-');
            if (bounds.Length is < 1 or > 2 || bounds.Any(b => b.Length == 0 || !b.All(char.IsAsciiDigit)))
                throw new ConfigException(variable, $"'{list}': '[{body}]' is not a list of numbers and ranges");
            long first = long.Parse(bounds[0]), last = long.Parse(bounds[^1]);
            if (last < first || last - first > 100_000) throw new ConfigException(variable, $"'{list}': the range '{part}' runs backwards or past 100 000 names");
            int width = bounds[0].Length;
            for (long v = first; v <= last; v++) yield return v.ToString().PadLeft(width, '0');
        }
    }
}
