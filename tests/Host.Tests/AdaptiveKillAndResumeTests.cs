using System.Diagnostics;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// The adaptive phase scheduler across a kill -9: `train` as a child process, killed mid-epoch in the first phase after
/// the scheduler granted it a third epoch, then resumed to the end. The resumed run must make the same decisions, with
/// the same reasons, and end with the same weights as an uninterrupted run (libtorch fixed to one thread).
/// </summary>
[Trait("Category", "Slow")] // kill -9: not in ./test --fast
public sealed class AdaptiveKillAndResumeTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("adaptive-kill-").FullName;

    const string Experiment = """
        data.synthetic { train-clips-per-class = 20, eval-clips-per-class = 3, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training {
          batch-size = 8, checkpoint-every-steps = 3, seed = 3
          phase-scheduler = adaptive
          adaptive { signal = metric, window = 2, patience = 2, expected-gain = 0.5 }
        }
        curriculum = [
          { method = pool, factor = 4, epochs = 6, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    static List<string> Decisions(string runDir) => JournalEvents(runDir, "PhaseLengthDecided").Select(e => e.GetRawText()).ToList();

    [Fact]
    public void AKilledAdaptiveRunResumesToTheSameDecisionsAndTheSameWeights()
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
        Assert.True(decisions.Count >= 1);
        // on 18 evaluation clips the started gate (chance + 3 standard errors: 0.43) holds back what patience would end
        Assert.Contains(decisions, d => d.Contains("but the phase has not started"));

        // the first decision (from epoch 1's score, too few for a 2-epoch gain) grants epoch 3: kill in its middle
        var at = KillWhen(_dir, TrainArgs(killed, config), killed, postgres: null, c => c is { Phase: 0, Epoch: 2, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(at.Path)} (phase 1, epoch 3, position {at.DataPosition})");
        Assert.NotEmpty(Decisions(killed));

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", killed);
        Assert.Equal(0, status.ExitCode);
        output.WriteLine(status.Stdout);
        Assert.Contains("adaptive phase scheduler on accuracy (FLOPs budget)", status.Stdout);
        Assert.Contains("scheduler after epoch 1: epoch 3 granted — accuracy", status.Stdout);

        Train(_dir, killed, config);
        Assert.Equal(decisions, Decisions(killed));

        var last = Commits(straight).Last();
        Assert.Equal(1, last.Phase);
        AssertSameEnd(straight, killed, phase: 1, epoch: last.Epoch, output);
        // the metrics log names the run as adaptive and carries each decision
        var log = File.ReadAllText(Path.Combine(killed, "metrics.csv"));
        Assert.Contains("pool-max 4→1 adaptive", log);
        Assert.Contains("go on: accuracy", log);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
