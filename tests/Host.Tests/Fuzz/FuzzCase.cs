using System.Text.RegularExpressions;

namespace ActorTraining.Host.Tests.Fuzz;

/// <summary>
/// One generated command line: its verb and arguments, whether its input is certainly wrong (it must then fail), and
/// the existing run directory it points at, if any (which it must leave as it found it).
/// </summary>
public sealed partial record FuzzCase(int Index, string Kind, string Description, string[] Args, bool MustFail, string? ProtectedRun = null)
{
    /// <summary>What a user must never see: exception type names, internal messages, stack frames.</summary>
    [GeneratedRegex(@"Exception\b|^\s+at \S+\(|\bat System\.|\(Parameter '|\bSystem\.[A-Z][a-z]+\b|Unhandled|NullReference|Object reference not set|Index was outside|startingIndex", RegexOptions.Multiline)]
    private static partial Regex Internal();

    /// <summary>What is wrong with how the CLI answered this case, or null when nothing is.</summary>
    public string? Violation(Cli.Result? r)
    {
        if (r is null) return "did not finish within the case time limit (a hang)";
        if (r.ExitCode is not (0 or 1 or 2))
            return r.ExitCode == 3 ? $"an internal error (exit 3): {r.Stderr.Trim()}" : $"exit code {r.ExitCode} (a crash?)";
        if (MustFail && r.ExitCode == 0) return "accepted an input that is certainly wrong";
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (r.ExitCode == 0 && lines.Length > 0) return $"succeeded but wrote to stderr: {lines[0]}";
        if (r.ExitCode != 0 && lines.Length != 1) return $"{lines.Length} lines on stderr, not one: {string.Join(" | ", lines.Take(4))}";
        if (r.ExitCode != 0 && !lines[0].StartsWith("error: ", StringComparison.Ordinal)) return $"the line on stderr is not an error sentence: {lines[0]}";
        var leak = Internal().Match(r.Stdout + "\n" + r.Stderr);
        if (leak.Success)
        {
            var text = r.Stdout + "\n" + r.Stderr;
            var at = Math.Max(0, leak.Index - 120);
            return $"shows internal detail '{leak.Value}': …{text.Substring(at, Math.Min(240, text.Length - at)).ReplaceLineEndings(" ")}…";
        }
        return null;
    }
}
