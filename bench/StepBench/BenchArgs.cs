namespace ActorTraining.StepBench;

/// <summary>`--name value` flags with defaults; unknown or malformed flags are errors naming the flag.</summary>
public sealed class BenchArgs
{
    readonly Dictionary<string, string> _values = new();
    readonly HashSet<string> _used = new();

    public BenchArgs(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--") || i + 1 >= list.Count)
                throw new ArgumentException($"expected '--name value', got '{list[i]}'");
            _values[list[i][2..]] = list[++i];
        }
    }

    public int Int(string name, int fallback) => Get(name, fallback, s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture));
    public double Double(string name, double fallback) => Get(name, fallback, s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture));
    public string String(string name, string fallback) => Get(name, fallback, s => s);
    public string Required(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
    }

    /// <summary>Call after reading every flag: a flag nobody read is a typo.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Except(_used).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown flag(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }

    T Get<T>(string name, T fallback, Func<string, T> parse)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var text)) return fallback;
        try { return parse(text); }
        catch (FormatException) { throw new ArgumentException($"--{name}: '{text}' is not a valid {typeof(T).Name}"); }
    }
}
