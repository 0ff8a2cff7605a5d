using System.CommandLine;
using System.Globalization;
using Akka.Actor;
using ActorTraining.Actors;
using ActorTraining.Messages;
using ActorTraining.Host.Running;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining status --run-dir D`: phases, epochs, metrics and checkpoints of each run, read from the journal.</summary>
public static class StatusCommand
{
    const int MaxRuns = 16;

    public static Command Create()
    {
        var runDir = new Option<string>("--run-dir") { Description = "Run directory to report on", DefaultValueFactory = _ => Path.Combine("runs", "default") };
        var postgres = new Option<string?>("--postgres") { Description = "Read the journal from PostgreSQL (Npgsql connection string)" };
        var command = new Command("status", "Show a run's phases, epochs, metrics and checkpoints from its journal") { runDir, postgres };
        command.SetAction(async (parse, cancel) =>
        {
            var dir = Path.GetFullPath(parse.GetValue(runDir)!);
            var pg = parse.GetValue(postgres);
            if (pg is null && !File.Exists(Path.Combine(dir, PersistenceConfig.JournalFile)))
            {
                Console.Error.WriteLine($"error: {dir}: no run journal ({PersistenceConfig.JournalFile}) here — not a run directory, or nothing trained yet");
                return 2;
            }
            if (RunIdentity.Read(dir) is not { } runId)
            {
                Console.Error.WriteLine($"error: {dir}: no {RunIdentity.FileName} file here — not a run directory, or nothing trained yet");
                return 2;
            }
            if (pg is not null)
            {
                try { PersistenceConfig.CheckPostgres(pg); }
                catch (JournalUnavailableException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    return 2;
                }
            }
            using var system = ActorSystem.Create("status", PersistenceConfig.ForRun(dir, pg)
                .WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = WARNING")));
            try
            {
                for (int r = 0; r < MaxRuns; r++)
                {
                    var reader = system.ActorOf(JournalReader.Props(PhaseSupervisor.IdOf(runId, r)));
                    var state = await ReadState(reader, pg is null ? Path.Combine(dir, PersistenceConfig.JournalFile) : PersistenceConfig.Describe(pg));
                    if (!state.Started) break;
                    Print(r, state);
                }
                return 0;
            }
            finally { await system.Terminate(); }
        });
        return command;
    }

    /// <summary>
    /// The state the reader recovers. A journal that went away or cannot be read stops the reader (recovery failed) or
    /// leaves it silent: either is a sentence naming the journal, not an ask timeout.
    /// </summary>
    static async Task<RunState> ReadState(IActorRef reader, string journal)
    {
        var stopped = reader.WatchAsync();
        var ask = reader.Ask<RunState>(GetRunState.Instance, ReadTimeout);
        await Task.WhenAny(ask, stopped);
        if (ask.IsCompletedSuccessfully) return ask.Result;
        throw new JournalUnavailableException(stopped.IsCompleted
            ? $"{journal}: the run journal could not be read (the database is gone, locked or damaged); nothing was changed"
            : $"{journal}: the run journal did not answer within {ReadTimeout.TotalSeconds:F0} s; nothing was changed", (Exception?)ask.Exception ?? new TimeoutException());
    }

    static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    static void Print(int runIndex, RunState s)
    {
        var name = runIndex == 0 ? "curriculum" : $"compare[{runIndex - 1}]";
        var where = s.Completed ? "completed" : $"in phase {s.CurrentPhase + 1}/{s.Phases.Length}";
        Console.WriteLine($"run {name}: {where}, config hash {RunFingerprint.Parse(s.ConfigHash!).Short}");
        foreach (var p in s.Phases)
        {
            var state = s.CompletedPhases.Contains(p.Index) ? "done" : p.Index == s.CurrentPhase ? "running" : p.Index < s.CurrentPhase ? "done" : "pending";
            Console.WriteLine($"  phase {p.Index + 1}: {p.Method}{(p.Method == "pool" ? "-" + p.Pooling : "")} C={p.Factor}, {p.InputFrames} frames, {p.Epochs} epochs, lr {p.Lr} — {state}");
            foreach (var e in s.Epochs.Where(e => e.Phase == p.Index))
            {
                var metrics = string.Join(", ", e.Metrics.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value.ToString("F4", CultureInfo.InvariantCulture)}"));
                Console.WriteLine($"    epoch {e.Epoch + 1}: {metrics}; {e.Samples} samples, {e.Flops / 1e12:F3} TFLOPs, {e.WallSeconds:F1} s, trainer idle {e.IdleSeconds:F1} s" +
                                  (e.SkippedFiles > 0 ? $", {e.SkippedFiles} skipped" : ""));
            }
        }
        var keep = s.CheckpointsToKeep();
        foreach (var c in s.Checkpoints.Where(c => keep.Contains(c.Path)))
            Console.WriteLine($"  checkpoint phase {c.Phase + 1} epoch {c.Epoch + 1} step {c.Step} position {c.DataPosition}{(c.EpochComplete ? " (epoch end)" : "")}: {c.Path} sha256 {c.Sha256[..Math.Min(16, c.Sha256.Length)]}");
        if (s.LastCheckpoint() is { } last)
            Console.WriteLine($"  resume point: phase {last.Phase + 1}, epoch {last.Epoch + 1}, position {last.DataPosition}, step {last.Step}");
        foreach (var r in s.Restarts)
            Console.WriteLine($"  restart {r.Generation} (number {r.Attempt} in a row) after a fault in the {r.Component}: {r.Cause}");
        if (s.GaveUp is { } g)
            Console.WriteLine($"  stopped: a fault in the {g.Component} after {g.Restarts} restarts in a row: {g.Cause} — rerun `train` to resume");
    }
}
