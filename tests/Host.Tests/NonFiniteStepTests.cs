using System.Globalization;
using ActorTraining.Actors;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A step whose loss or gradient norm is NaN or infinite never reaches the weights: its update is skipped on every rank,
/// the fault restarts training from the last committed checkpoint, and the same step failing again stops the run with
/// a sentence. Real `train` processes; the NaN comes from the fault point trainer.nan-gradient (one rank's gradient)
/// or from a learning rate that blows the weights up.
/// </summary>
public sealed class NonFiniteStepTests(ITestOutputHelper output) : IDisposable
{
    const string TwoRanks = """
        data.synthetic { train-clips-per-class = 8, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 8, checkpoint-every-steps = 2, seed = 3, restart-backoff-seconds = 0.2, devices = ["cpu", "cpu"] }
        curriculum = [
          { method = pool, factor = 2, epochs = 1, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 1, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    readonly string _dir = Directory.CreateTempSubdirectory("nonfinite-").FullName;

    string Config(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ANanGradientOnOneRankSkipsTheUpdateOnBothRestartsFromTheCommitAndEndsBitIdentical()
    {
        var config = Config("two-ranks.hocon", TwoRanks);
        var straight = Path.Combine(_dir, "straight");
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(straight, config));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);

        var faulted = Path.Combine(_dir, "faulted");
        // the 7th step taken by either rank of the process: step 4 of phase 1, on one rank only
        r = Cli.RunWith(new Dictionary<string, string> { [FaultInjection.Variable] = "trainer.nan-gradient@7" }, _dir, TimeSpan.FromMinutes(4),
            TrainArgs(faulted, config));
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal("", r.Stderr);

        var restart = Assert.Single(JournalEvents(faulted, "TrainingRestarted"));
        var at = restart.GetProperty("NonFinite");
        Assert.Equal(0, at.GetProperty("Phase").GetInt32());
        Assert.Equal(4, at.GetProperty("Step").GetInt64());
        Assert.Equal("gradient norm", at.GetProperty("Quantity").GetString());
        Assert.Contains("phase 1, epoch 1, step 4: the gradient norm is NaN; the update was not applied", restart.GetProperty("Cause").GetString());
        Assert.Contains("restarts after faults: 1", r.Stdout);
        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", faulted);
        Assert.Contains("the gradient norm is NaN", status.Stdout);
        // nothing of the poisoned step was committed: every commit of phase 1 up to step 4 is one the straight run made too
        Assert.DoesNotContain(Commits(faulted), c => c.Phase == 0 && c.Step >= 4 && !Commits(straight).Any(s => s.Phase == 0 && s.Step == c.Step));
        AssertSameEnd(straight, faulted, phase: 1, epoch: 0, output);
        // the gradient norm is reported: the epoch's largest in the metrics
        var csv = File.ReadAllLines(Path.Combine(faulted, "metrics.csv"));
        int column = Array.IndexOf(csv[0].Split(','), "grad_norm_max");
        Assert.True(column >= 0, csv[0]);
        foreach (var line in csv.Skip(1))
            Assert.True(double.Parse(line.Split(',')[column], CultureInfo.InvariantCulture) > 0, line);
    }

    [Fact]
    public void ALearningRateThatDivergesDeterministicallyStopsTheRunWithASentenceAndCommitsNothingAfterTheLastFiniteStep()
    {
        // Adam moves every weight by about lr at its first step: at 1e30 the second forward overflows float32
        var config = Config("diverging.hocon", """
            data.synthetic { train-clips-per-class = 8, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
            training { batch-size = 8, checkpoint-every-steps = 1, seed = 3, restart-backoff-seconds = 0.2 }
            curriculum = [ { method = pool, factor = 1, epochs = 2, lr = 1e30, warmup-steps = 1 } ]
            compare = []
            """);
        var runDir = Path.Combine(_dir, "diverging");
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(runDir, config));
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(1, r.ExitCode);
        var restart = Assert.Single(JournalEvents(runDir, "TrainingRestarted"));
        long step = restart.GetProperty("NonFinite").GetProperty("Step").GetInt64();
        var spent = Assert.Single(JournalEvents(runDir, "RestartBudgetSpent")).GetProperty("Cause").GetString()!;
        Assert.Contains($"phase 1, epoch 1, step {step}: the ", spent);
        Assert.Contains("again after a restart from the last committed checkpoint", spent);
        Assert.Contains("try a lower lr for phase 1 or set training.clip-grad-norm", spent);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(spent, line);
        // the last commit is the last finite step's
        Assert.Equal(step - 1, Commits(runDir).Max(c => c.Step));
        foreach (var w in Weights(Commits(runDir).Last().Path)) Assert.True(float.IsFinite(w));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
