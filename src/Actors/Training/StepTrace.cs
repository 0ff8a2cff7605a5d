using System.Text.Json;

namespace ActorTraining.Actors;

/// <summary>
/// For the cluster tests and the failover benchmark: when the undocumented environment variable <see cref="Variable"/>
/// names a directory, every rank appends one JSON line per step it took to its own file there — which generation, which
/// member of how many, which global batch of which epoch, the positions it trained, the step after it, the global loss, the wall
/// clock — flushed line by line, so a node killed with -9 leaves every step it took. Outside tests it is unset and
/// costs a null check.
/// </summary>
public static class StepTrace
{
    public const string Variable = "ACTORTRAINING_TRACE";

    /// <summary>One step as a member took it.</summary>
    public sealed record Line(long UnixMs, int Pid, int Run, int Phase, int Generation, int World, int Member, int Epoch, long Batch,
        long Step, long EndPosition, long[] Positions, int Samples, bool Taken, double Loss);

    static readonly string? Directory = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } d ? d : null;
    static readonly object Gate = new();

    public static bool Enabled => Directory is not null;

    public static void Write(string rank, Line line)
    {
        if (Directory is null) return;
        var text = JsonSerializer.Serialize(line) + "\n";
        lock (Gate)
        {
            System.IO.Directory.CreateDirectory(Directory);
            using var file = new FileStream(Path.Combine(Directory, $"trace-{Environment.ProcessId}-{rank}.jsonl"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: false);
        }
    }

    /// <summary>Every line of every trace file in <paramref name="directory"/>.</summary>
    public static IReadOnlyList<Line> Read(string directory) => System.IO.Directory.Exists(directory)
        ? System.IO.Directory.GetFiles(directory, "trace-*.jsonl").SelectMany(File.ReadAllLines).Where(l => l.EndsWith('}'))
            .Select(l => JsonSerializer.Deserialize<Line>(l)!).ToList()
        : [];
}
