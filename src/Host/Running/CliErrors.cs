using System.CommandLine;
using System.Text.RegularExpressions;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;

namespace ActorTraining.Host.Running;

/// <summary>
/// The one place where a failure reaching the CLI becomes what the user reads: one line on stderr, naming the file,
/// key, value or server and what is wrong in words — never an exception's type name, an internal message or a stack
/// trace (those only with <c>--verbose</c>). Exit codes: 2 the input is wrong (the user can fix it), 3 an internal
/// error (a bug: the input may well be fine). A verb's own failure to do its job (a training run that failed) is 1.
/// </summary>
public static partial class CliErrors
{
    public const int BadInput = 2;
    public const int InternalError = 3;

    /// <summary>Every verb's <c>--verbose</c> (recursive on the root command): more log, and stack traces of failures.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "More log (the actor system at INFO level) and, for a failure, its stack trace",
        Recursive = true,
    };

    /// <summary>Errors that are the user's to fix: their messages are sentences we wrote, naming what is wrong.</summary>
    public static bool IsUserError(Exception e) => e is ConfigException or DatasetException or AudioDecodeException or Compute.Data.Shards.ShardSourceException
        or CheckpointCorruptException or InvalidDataException or Actors.RunConfigMismatchException or Actors.JournalUnavailableException
        // the operating system's sentences name the path ("Could not find file '/x'", "Access to the path '/x' is denied")
        or IOException or UnauthorizedAccessException;

    /// <summary>Writes the line for <paramref name="failure"/> (and, verbose, the whole exception) to stderr; returns the exit code.</summary>
    public static int Report(Exception failure, string verb, bool verbose)
    {
        var e = Unwrap(failure);
        var user = IsUserError(e);
        Console.Error.WriteLine(user
            ? $"error: {OneLine(e.Message)}"
            : $"error: {verb} failed on an internal error — a bug in actortraining, not necessarily in your input; rerun with --verbose for its details and report them");
        if (verbose) Console.Error.WriteLine(failure);
        return user ? BadInput : InternalError;
    }

    /// <summary>System.CommandLine's parse errors as one line, with types in words ("an integer", not "System.Int32").</summary>
    public static int ReportParseErrors(ParseResult parse)
    {
        var errors = parse.Errors.Select(x => TypeNames().Replace(x.Message, m => "as " + InWords(m.Groups[1].Value))).Distinct();
        var verb = parse.CommandResult.Command is RootCommand ? "" : " " + parse.CommandResult.Command.Name;
        Console.Error.WriteLine($"error: {string.Join(" ", errors.Select(x => x.TrimEnd('.') + "."))} (see actortraining{verb} --help)");
        return BadInput;
    }

    /// <summary>
    /// An empty argument or option value (`--checkpoint ""`) names nothing: no verb takes one, and the file APIs would
    /// fail on it deep inside. Null when every value has text.
    /// </summary>
    public static string? EmptyValue(ParseResult parse)
    {
        foreach (var child in parse.CommandResult.Children)
        {
            var (name, tokens) = child switch
            {
                System.CommandLine.Parsing.OptionResult o => (o.Option.Name, o.Tokens),
                System.CommandLine.Parsing.ArgumentResult a => ($"<{a.Argument.Name}>", a.Tokens),
                _ => ("", (IReadOnlyList<System.CommandLine.Parsing.Token>)[]),
            };
            if (tokens.Any(t => string.IsNullOrWhiteSpace(t.Value))) return name;
        }
        return null;
    }

    public static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    static Exception Unwrap(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => e,
    };

    static string InWords(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "a whole number",
        "System.Double" or "System.Single" or "System.Nullable`1[System.Double]" => "a number",
        "System.Boolean" => "true or false",
        _ => "the expected kind of value",
    };

    [GeneratedRegex(@"as expected type '([^']+)'")]
    private static partial Regex TypeNames();
}
