using System.Text.Json;
using System.Text.RegularExpressions;

namespace ActorTraining.Compute.Data;

/// <summary>
/// A System.Text.Json syntax error as a user reads it: "line 3, column 14: expected …" — without the reader's own
/// position suffix ("LineNumber: 2 | BytePositionInLine: 13.", "Path: $.data") and its zero-based counts.
/// </summary>
public static partial class JsonSyntax
{
    public static string Describe(JsonException e)
    {
        var what = Position().Replace(e.Message, "").Trim().TrimEnd('.', ' ', '|');
        what = what.Length == 0 ? "not valid JSON" : char.ToLowerInvariant(what[0]) + what[1..];
        return e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}: {what}" : what;
    }

    [GeneratedRegex(@"\s*(Path: \S*|LineNumber: \d+|BytePositionInLine: \d+)\s*\|?\s*\.?")]
    private static partial Regex Position();
}
