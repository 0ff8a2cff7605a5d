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
            if (pg is null) PersistenceConfig.CheckSqlite(dir);
            await using var local = await LocalActorSystem.Start("status", parse.GetValue(CliErrors.Verbose), akka => akka.WithRunJournal(dir, pg));
            {
                for (int r = 0; r < MaxRuns; r++)
                {
                    var state = await RecordedRun.Read(local.System, PhaseSupervisor.IdOf(runId, r), dir, pg);
                    if (!state.Started) break;
                    Print(r, state);
                }
                return 0;
            }
        });
        return command;
    }

    static void Print(int runIndex, RunState s)
    {
        var name = runIndex == 0 ? "curriculum" : $"compare[{runIndex - 1}]";
        var where = s.Completed ? "completed" : $"in phase {s.CurrentPhase + 1}/{s.Phases.Length}";
        Console.WriteLine($"run {name}: {where}, config hash {RunFingerprint.Parse(s.ConfigHash!).Short}" +
                          (s.Schedule is { } a ? $", adaptive phase scheduler on {a.Signal} ({(a.BudgetInFlops ? "FLOPs" : "epochs")} budget)" : ""));
        if (s.Model is { } model) Console.WriteLine($"  model: {model}");
        foreach (var p in s.Phases)
        {
            var state = s.CompletedPhases.Contains(p.Index) ? "done" : p.Index == s.CurrentPhase ? "running" : p.Index < s.CurrentPhase ? "done" : "pending";
            var epochs = s.LengthSettled(p.Index) ? $"{p.Epochs} epochs" : $"{p.Epochs} epochs so far, at most {s.Budgets[p.Index]} (adaptive)";
            Console.WriteLine($"  phase {p.Index + 1}: {p.Compression}, {p.InputFrames} frames, {epochs}, lr {p.Lr} — {state}");
            foreach (var e in s.Epochs.Where(e => e.Phase == p.Index))
            {
                var metrics = string.Join(", ", e.Metrics.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value.ToString("F4", CultureInfo.InvariantCulture)}"));
                Console.WriteLine($"    epoch {e.Epoch + 1}: {metrics}; {e.Samples} samples, {e.Flops / 1e12:F3} TFLOPs, {e.WallSeconds:F1} s, trainer idle {e.IdleSeconds:F1} s" +
                                  (e.SkippedFiles > 0 ? $", {e.SkippedFiles} skipped" : ""));
            }
            // the adaptive scheduler's decisions about this phase, each with its reason
            foreach (var d in s.Decisions.Where(d => d.Phase == p.Index))
                Console.WriteLine($"    scheduler after epoch {d.Epoch + 1}: " +
                                  (d.EndsPhase ? $"phase ends after {d.PhaseEpochs} epochs, next phase up to {d.NextPhaseEpochs}" : $"epoch {d.PhaseEpochs} granted") +
                                  $" — {d.Reason}");
            foreach (var pr in s.Probes.Where(x => x.Phase == p.Index))
                Console.WriteLine($"    probe after epoch {pr.Epoch + 1} ({pr.Purpose.ToString().ToLowerInvariant()}): " +
                                  (pr.HereSteps > 0 ? $"phase {p.Index + 1} eval loss {pr.HereStartLoss:F4} → {pr.HereLoss:F4} in {pr.HereSteps} steps, " : "") +
                                  $"phase {p.Index + 2} {pr.ZeroShotLoss:F4} → {pr.Loss:F4} in {pr.Steps} steps; {pr.Flops / 1e12:F3} TFLOPs, {pr.WallSeconds:F1} s");
            if (s.Averaging is { } wa && p.Index == s.Phases.Length - 1)
                Console.WriteLine($"    weight average of {wa}: " + (s.AverageScore is { } score
                    ? string.Join(", ", score.Metrics.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value.ToString("F4", CultureInfo.InvariantCulture)}")) + $" — {s.Averaged!.Path}"
                    : s.Averaged is { } averaged ? $"written ({averaged.Path}), evaluation pending" : "after the phase's last epoch"));
        }
        var keep = s.CheckpointsToKeep();
        foreach (var c in s.Checkpoints.Where(c => keep.Contains(c.Path)))
            Console.WriteLine($"  checkpoint phase {c.Phase + 1} epoch {c.Epoch + 1} step {c.Step} position {c.DataPosition}{(c.EpochComplete ? " (epoch end)" : "")}: {c.Path} sha256 {c.Sha256[..Math.Min(16, c.Sha256.Length)]}");
        if (s.LastCheckpoint() is { } last)
            Console.WriteLine($"  resume point: phase {last.Phase + 1}, epoch {last.Epoch + 1}, position {last.DataPosition}, step {last.Step}");
        // the generations of ranks that trained it: the last few in full, the rest counted
        const int Shown = 8;
        if (s.Generations.Count > Shown) Console.WriteLine($"  generations 0–{s.Generations[^(Shown + 1)].Generation}: {s.Generations.Count - Shown} more, as the journal lists them");
        foreach (var formed in s.Generations.TakeLast(Shown))
            Console.WriteLine($"  generation {formed.Generation}: {formed.Members.Count} rank(s) on {formed.Members.Select(m => m.Node).Distinct().Count()} node(s), " +
                              $"phase {formed.Phase + 1} epoch {formed.Epoch + 1} from position {formed.Position}, step {formed.Step} ({formed.StartedFrom})");
        foreach (var r in s.Restarts)
            Console.WriteLine($"  restart {r.Generation} (number {r.Attempt} in a row) after a fault in the {r.Component}: {r.Cause}");
        if (s.Stuck is { } stuck) Console.WriteLine($"  stopped: {stuck.Reason}");
        if (s.GaveUp is { } g)
            Console.WriteLine($"  stopped: a fault in the {g.Component} after {g.Restarts} restarts in a row: {g.Cause} — rerun `train` to resume");
    }
}
