using System.Diagnostics;
using ActorTraining.Actors;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// Faults injected into a real `train` process (the undocumented <see cref="FaultInjection.Variable"/>), one failure
/// path per case: each run must recover inside the process — a journal event per restart, shown by `status` and the
/// summary — and end bit for bit where an uninterrupted run ends. Without the recovery each of these ended the run
/// (trainer, evaluator) or hung it (a throwing batcher restarted and lost its demand, a duplicate position, an
/// evaluation pipeline that died under a waiting torch thread, a step that never returns).
/// </summary>
[Trait("Category", "Slow")] // faults and restarts: not in ./test --fast
public sealed class RecoveryTests(RecoveryTests.Reference reference, ITestOutputHelper output) : IClassFixture<RecoveryTests.Reference>
{
    const string Experiment = """
        data.synthetic { train-clips-per-class = 12, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 8, checkpoint-every-steps = 3, seed = 3, restart-backoff-seconds = 0.2, stall-timeout-seconds = 4 }
        front-end { mixup = 0.5 }
        curriculum = [
          { method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    static string[] TrainArgs(string runDir, string config, params string[] more) =>
        ["train", "--config", config, "--run-dir", runDir, "--torch-threads", "1", .. more];

    /// <summary>
    /// The uninterrupted run every case is compared with (trained once per test class), under forced collections
    /// (GcPressure): the whole actor pipeline — decoders, fbank, batcher, trainer, evaluator, checkpoints — must
    /// survive them, and must not change a single bit of the result.
    /// </summary>
    public sealed class Reference : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("recovery-").FullName;
        public string Config => Path.Combine(Dir, "experiment.hocon");
        public string RunDir => Path.Combine(Dir, "straight");
        public Cli.Result Result { get; }

        public Reference()
        {
            File.WriteAllText(Config, Experiment);
            Result = Cli.RunWith(new Dictionary<string, string> { [ActorTraining.Compute.Runtime.GcPressure.EnvironmentVariable] = "600" },
                Dir, TimeSpan.FromMinutes(6), TrainArgs(RunDir, Config));
        }

        public void Dispose()
        {
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }
    }

    [Theory]
    [InlineData("trainer.step@5", "trainer")]                // an exception in a training step (a libtorch error)
    [InlineData("evaluator.batch@2", "evaluator")]           // an exception while scoring an evaluation batch
    [InlineData("batcher.prepare@30", "pipeline")]           // the batcher throws: was restarted, lost its demand, hung
    [InlineData("batcher.duplicate@20", "pipeline")]         // a position arrives twice in the reorder buffer: same
    [InlineData("evaluator.pipeline-stops@5", "evaluator")]  // the evaluation pipeline dies: the torch thread waited for ever
    [InlineData("trainer.hang@8", "watchdog")]               // a step never returns: only the watchdog can tell
    public void AFaultRestartsTrainingInsideTheProcessAndTheRunEndsBitIdentical(string fault, string component)
    {
        Assert.True(reference.Result.ExitCode == 0, reference.Result.Stdout + reference.Result.Stderr);
        var runDir = Path.Combine(reference.Dir, fault.Replace('@', '-'));
        var clock = Stopwatch.StartNew();
        var r = Cli.RunWith(new Dictionary<string, string> { [FaultInjection.Variable] = fault }, reference.Dir, TimeSpan.FromMinutes(4),
            TrainArgs(runDir, reference.Config));
        output.WriteLine($"{fault}: exit {r.ExitCode} in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);

        var restarts = JournalEvents(runDir, "TrainingRestarted");
        Assert.True(restarts.Count == 1, $"{restarts.Count} restarts in the journal");
        Assert.Equal(component, restarts[0].GetProperty("Component").GetString());
        Assert.Contains("restarts after faults: 1", r.Stdout);
        var status = Cli.RunIn(reference.Dir, TimeSpan.FromMinutes(1), "status", "--run-dir", runDir);
        // (the restart's generation number depends on whether the fault came before or after phase 2's generation formed:
        // a phase no longer waits for its last evaluation, so an evaluator fault may land on either side)
        Assert.Contains($"(number 1 in a row) after a fault in the {component}", status.Stdout);

        AssertSameEnd(reference.RunDir, runDir, phase: 1, epoch: 1, output);
    }

    [Fact]
    public void AFailingSupervisorEndsTheRunWithASentenceInsteadOfAHangAndARerunResumes()
    {
        var runDir = Path.Combine(reference.Dir, "supervisor");
        var r = Cli.RunWith(new Dictionary<string, string> { [FaultInjection.Variable] = "supervisor.commit@2" }, reference.Dir, TimeSpan.FromMinutes(4),
            TrainArgs(runDir, reference.Config));
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("the phase supervisor failed: injected fault at supervisor.commit", r.Stderr);
        var again = Cli.RunIn(reference.Dir, TimeSpan.FromMinutes(4), TrainArgs(runDir, reference.Config));
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        AssertSameEnd(reference.RunDir, runDir, phase: 1, epoch: 1, output);
    }

    [Fact]
    public void ASpentRestartBudgetFailsTheRunNamingTheCause()
    {
        var runDir = Path.Combine(reference.Dir, "no-budget");
        var r = Cli.RunWith(new Dictionary<string, string> { [FaultInjection.Variable] = "trainer.step@3" }, reference.Dir, TimeSpan.FromMinutes(4),
            TrainArgs(runDir, reference.Config, "--set", "training.max-restarts=0"));
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("injected fault at trainer.step", r.Stderr);
        Assert.Contains("training.max-restarts = 0", r.Stderr);
        Assert.Single(JournalEvents(runDir, "RestartBudgetSpent"));

        // the same command again (no fault this time) resumes: a person restarting the run starts the budget over
        var again = Cli.RunIn(reference.Dir, TimeSpan.FromMinutes(4), TrainArgs(runDir, reference.Config, "--set", "training.max-restarts=0"));
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.Single(JournalEvents(runDir, "RestartBudgetReset"));
        // (the checkpoint's manifest records max-restarts = 0, so compare what was trained, not the whole file)
        var (equal, maxDiff) = CompareWeights(FinalCheckpoint(reference.RunDir, 1, 1), FinalCheckpoint(runDir, 1, 1));
        Assert.True(equal, $"final weights differ (max |diff| {maxDiff})");
        Assert.Equal(EpochMetrics(reference.RunDir), EpochMetrics(runDir));
    }
}
