namespace ActorTraining.Actors;

/// <summary>
/// Faults on purpose, for the recovery tests: read once from the undocumented environment variable
/// <see cref="Variable"/> as comma-separated <c>point@n</c> entries, each firing once per process when
/// <see cref="Fires"/> is called with that point for the n-th time (counted from 1). Unset (always, outside
/// tests), every call is a dictionary miss. Points: <c>trainer.step</c> (throw in a training step),
/// <c>trainer.nan-gradient</c> (this rank's gradient of that step NaN, its loss finite),
/// <c>trainer.hang</c> (a step that stops answering), <c>evaluator.batch</c> (throw while scoring),
/// <c>batcher.prepare</c> (throw in the batcher), <c>batcher.duplicate</c> (a sample arrives twice),
/// <c>evaluator.pipeline-stops</c> (the evaluation pipeline stops without a word), <c>supervisor.commit</c> (the
/// phase supervisor itself throws), <c>supervisor.average</c> (writing the weight average throws),
/// <c>supervisor.pause-after-commit</c> (from the n-th journaled checkpoint commit on,
/// the whole process stops itself with SIGSTOP after each one, so a test outside can look at the journal and choose
/// to kill -9 it at exactly that commit or let it go on with SIGCONT — polling a running process overshoots).
/// </summary>
public static class FaultInjection
{
    public const string Variable = "ACTORTRAINING_FAULTS";

    static readonly Dictionary<string, long> Planned = Parse(Environment.GetEnvironmentVariable(Variable));
    static readonly Dictionary<string, long> Counts = new();
    static readonly object Gate = new();

    /// <summary>Counts a pass through <paramref name="point"/>; true exactly once, at the planned pass.</summary>
    public static bool Fires(string point)
    {
        if (Planned.Count == 0 || !Planned.TryGetValue(point, out var at)) return false;
        lock (Gate)
        {
            Counts[point] = Counts.GetValueOrDefault(point) + 1;
            return Counts[point] == at;
        }
    }

    /// <summary>Counts a pass through <paramref name="point"/>; true at the planned pass and every one after it.</summary>
    public static bool FiresFrom(string point)
    {
        if (Planned.Count == 0 || !Planned.TryGetValue(point, out var at)) return false;
        lock (Gate)
        {
            Counts[point] = Counts.GetValueOrDefault(point) + 1;
            return Counts[point] >= at;
        }
    }

    /// <summary>Stops the whole process (SIGSTOP: every thread, at once) when <paramref name="point"/> fires, from its planned pass on.</summary>
    public static void PauseProcessFrom(string point)
    {
        if (FiresFrom(point) && OperatingSystem.IsLinux()) _ = kill(Environment.ProcessId, SigStop);
    }

    const int SigStop = 19; // Linux

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>Throws an <see cref="InjectedFaultException"/> when <paramref name="point"/> fires.</summary>
    public static void At(string point)
    {
        if (Fires(point)) throw new InjectedFaultException(point);
    }

    static Dictionary<string, long> Parse(string? spec)
    {
        var plan = new Dictionary<string, long>();
        foreach (var entry in (spec ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('@');
            if (parts.Length == 2 && long.TryParse(parts[1], out var n) && n > 0) plan[parts[0]] = n;
        }
        return plan;
    }
}

/// <summary>A fault <see cref="FaultInjection"/> made on purpose.</summary>
public sealed class InjectedFaultException(string point) : Exception($"injected fault at {point}");
