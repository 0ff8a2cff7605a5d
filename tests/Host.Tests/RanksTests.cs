using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// Several ranks of one `train` process (training.devices = ["cpu", "cpu", …]): each a trainer session with its own
/// replica on its own thread, the global batch split between them, gradients summed over a loopback TCP ring.
/// The run's trajectory does not depend on the number of ranks, so a run killed with 3 ranks resumes with 1.
/// </summary>
[Trait("Category", "Slow")] // multi-process cluster: not in ./test --fast
public sealed class RanksTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ranks-").FullName;

    const string Experiment = """
        data.synthetic { train-clips-per-class = 10, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 10, checkpoint-every-steps = 3, seed = 3 }
        curriculum = [
          { method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    string Config()
    {
        var path = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(path, Experiment);
        return path;
    }

    static string Devices(int ranks) => "training.devices=[" + string.Join(",", Enumerable.Repeat("\"cpu\"", ranks)) + "]";

    string[] TrainArgs(string runDir, int ranks) =>
        ["train", "--config", Config(), "--run-dir", runDir, "--torch-threads", "1", "--set", Devices(ranks)];

    Cli.Result Train(string runDir, int ranks)
    {
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(runDir, ranks));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r;
    }

    [Fact]
    public void OneTwoAndThreeRanksEndWithTheSameWeightsAndMetrics()
    {
        var runs = new[] { 1, 2, 3 }.ToDictionary(n => n, n => Path.Combine(_dir, $"ranks-{n}"));
        foreach (var (n, dir) in runs) Train(dir, n);
        var reference = Weights(FinalCheckpoint(runs[1], phase: 1, epoch: 1));
        foreach (var n in new[] { 2, 3 })
        {
            var weights = Weights(FinalCheckpoint(runs[n], phase: 1, epoch: 1));
            var drift = RelativeDistance(reference, weights);
            output.WriteLine($"{n} ranks: ‖Δw‖/‖w‖ = {drift:E2} after 24 steps of a global batch of 10; epochs: {string.Join(" | ", EpochMetrics(runs[n]))}");
            Assert.True(drift <= 1e-5, $"{n} ranks drift {drift:E2} from one rank");
            Assert.Equal(Commits(runs[1]).Select(c => (c.Phase, c.Epoch, c.Step, c.DataPosition)), Commits(runs[n]).Select(c => (c.Phase, c.Epoch, c.Step, c.DataPosition)));
        }
        output.WriteLine($"1 rank: epochs: {string.Join(" | ", EpochMetrics(runs[1]))}");
    }

    [Fact]
    public void ARunKilledWithThreeRanksResumesWithOneOnTheSameTrajectory()
    {
        var straight = Path.Combine(_dir, "straight");
        Train(straight, 1);
        var killed = Path.Combine(_dir, "killed");
        var at = KillWhen(_dir, TrainArgs(killed, 3), killed, null, c => c is { Phase: 1, Epoch: 0, EpochComplete: false });
        output.WriteLine($"3 ranks killed after the commit of {Path.GetFileName(at.Path)} (phase 2, step {at.Step}, position {at.DataPosition})");
        Train(killed, 1); // the devices are not part of the run's identity: this resumes, on one rank
        Assert.Single(JournalEvents(killed, "RunStarted"));
        var drift = RelativeDistance(Weights(FinalCheckpoint(straight, 1, 1)), Weights(FinalCheckpoint(killed, 1, 1)));
        output.WriteLine($"resumed on 1 rank: ‖Δw‖/‖w‖ = {drift:E2} against the uninterrupted 1-rank run");
        Assert.True(drift <= 1e-5, $"the resumed run drifted {drift:E2}");
    }

    /// <summary>
    /// One rank's step throws (an injected fault, as a libtorch error would) while the others wait in the all-reduce:
    /// the failing rank closes its ring, so the others fail at once instead of waiting for the ring's timeout, the
    /// trainer reports the real cause (not the broken ring), and the supervisor restarts training from the last
    /// commit with a new generation and a new ring. The run ends bit-identical to an uninterrupted run with 2 ranks.
    /// </summary>
    [Fact]
    public void ARankThatFailsMidStepRestartsAllRanksAndTheRunEndsBitIdentical()
    {
        var straight = Path.Combine(_dir, "straight-2");
        Train(straight, 2);
        var faulted = Path.Combine(_dir, "faulted-2");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Cli.RunWith(new Dictionary<string, string> { [Actors.FaultInjection.Variable] = "trainer.step@15" }, _dir, TimeSpan.FromMinutes(4),
            TrainArgs(faulted, 2));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var restarts = JournalEvents(faulted, "TrainingRestarted");
        Assert.Single(restarts);
        var cause = restarts[0].GetProperty("Cause").GetString()!;
        output.WriteLine($"restarted after: {cause} ({clock.Elapsed.TotalSeconds:F1} s in all)");
        Assert.Contains("injected fault at trainer.step", cause);
        AssertSameEnd(straight, faulted, phase: 1, epoch: 1, output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
