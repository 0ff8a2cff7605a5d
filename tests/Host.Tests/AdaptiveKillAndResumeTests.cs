using System.Text.Json;
using System.Diagnostics;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// The adaptive phase scheduler's slope rule across a kill -9: `train` as a child process, killed mid-epoch in the first
/// phase once the scheduler asked for a probe of the next resolution, then resumed to the end. The resumed run must
/// make the same decisions, with the same reasons, measure the same probes to the bit, and end with the same weights as
/// an uninterrupted run (libtorch fixed to one thread).
/// </summary>
[Trait("Category", "Slow")] // kill -9: not in ./test --fast
public sealed class AdaptiveKillAndResumeTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("adaptive-kill-").FullName;

    // the generated six-class corpus (600 / 120 clips): C = 2 leaves chance after 4–5 epochs, its loss's steepest fall
    // is past after 7, and a probe follows; 25 steps of the 75 an epoch between commits
    const string Experiment = """
        training {
          batch-size = 8, checkpoint-every-steps = 25, seed = 3
          phase-scheduler = adaptive
          adaptive { window = 2, patience = 3, rule = slope }
        }
        curriculum = [
          { method = pool, factor = 2, epochs = 10, lr = 1e-3, warmup-steps = 20 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 0 }
        ]
        compare = []
        """;

    static List<string> Decisions(string runDir) => JournalEvents(runDir, "PhaseLengthDecided").Select(e => e.GetRawText()).ToList();

    // a probe's numbers, all but its wall time
    static List<string> Probes(string runDir) => JournalEvents(runDir, "PhaseProbed")
        .Select(e => string.Join(", ", e.EnumerateObject().Where(p => p.Name != "WallSeconds").Select(p => $"{p.Name} {p.Value.GetRawText()}"))).ToList();

    [Fact]
    public void AKilledAdaptiveRunResumesToTheSameDecisionsProbesAndWeights()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");

        var clock = Stopwatch.StartNew();
        Train(_dir, straight, config);
        output.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s");
        var decisions = Decisions(straight);
        foreach (var d in decisions) output.WriteLine(d);
        var probes = Probes(straight);
        foreach (var p in probes) output.WriteLine(p);
        Assert.Contains(decisions, d => d.Contains("the phase has not started"));
        var probe = Assert.Single(JournalEvents(straight, "PhaseProbed"));
        int probedAfter = probe.GetProperty("Epoch").GetInt32();
        Assert.Contains(decisions, d => d.Contains($"probe after epoch {probedAfter + 1}: for the same FLOPs"));

        // kill at the first commit after the epoch the probe starts from: the probe is under way or just measured
        var at = KillWhen(_dir, TrainArgs(killed, config), killed, postgres: null, c => c is { Phase: 0, EpochComplete: false } && c.Epoch == probedAfter + 1);
        output.WriteLine($"killed after the commit of {Path.GetFileName(at.Path)} (phase 1, epoch {at.Epoch + 1}, position {at.DataPosition}); " +
                         $"probes in the journal then: {Probes(killed).Count}");

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", killed);
        Assert.Equal(0, status.ExitCode);
        output.WriteLine(status.Stdout);
        Assert.Contains("adaptive phase scheduler on eval_loss (FLOPs budget)", status.Stdout);
        Assert.Contains("the phase has not started", status.Stdout);

        Train(_dir, killed, config);
        Assert.Equal(decisions, Decisions(killed));
        Assert.Equal(probes, Probes(killed));
        var after = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", killed);
        Assert.Contains($"    probe after epoch {probedAfter + 1} (slope): phase 1 eval loss ", after.Stdout);

        var last = Commits(straight).Last();
        Assert.Equal(1, last.Phase);
        AssertSameEnd(straight, killed, phase: 1, epoch: last.Epoch, output);
        // the metrics log names the run as adaptive, carries each decision and counts the probe's FLOPs
        var log = File.ReadAllText(Path.Combine(killed, "metrics.csv"));
        Assert.Contains("pool-max 2→1 adaptive", log);
        Assert.Contains("end: probe after epoch", log);
        using var final = JsonDocument.Parse(File.ReadLines(Path.Combine(killed, "metrics.jsonl")).Last());
        Assert.Equal(probe.GetProperty("Flops").GetDouble(), final.RootElement.GetProperty("ProbeFlops").GetDouble());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
