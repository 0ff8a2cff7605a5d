using System.Diagnostics;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// `train` as a real child process, killed with SIGKILL right after the journal committed a checkpoint — mid-epoch in
/// the first phase, then at the first phase's end (so a fresh process starts the second phase), then mid-epoch in the
/// second — and rerun each time, finally to completion, on the same run directory. Its final weights
/// must equal, bit for bit, those of an uninterrupted run with the same configuration (libtorch fixed to one thread).
/// </summary>
[Trait("Category", "Slow")] // kill -9: not in ./test --fast
public sealed class KillAndResumeTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kill-resume-").FullName;

    const string Experiment = """
        data.synthetic { train-clips-per-class = 20, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 8, checkpoint-every-steps = 3, seed = 3 }
        front-end { mixup = 0.5 }
        curriculum = [
          { method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 3, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    [Fact]
    public void AKilledRunResumedToTheEndHasTheSameFinalWeightsAsAnUninterruptedOne()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");

        var clock = Stopwatch.StartNew();
        Train(_dir, straight, config);
        output.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s");

        // Start the same training and kill -9 it once the journal holds a mid-epoch checkpoint of phase 1, epoch 2;
        // rerun and kill at phase 1's end; rerun and kill at a mid-epoch checkpoint of phase 2, epoch 2; rerun to the end.
        var first = KillWhen(killed, config, c => c is { Phase: 0, Epoch: 1, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(first.Path)} (phase 1, epoch 2, position {first.DataPosition}, step {first.Step})");
        var boundary = KillWhen(killed, config, c => c is { Phase: 0, Epoch: 1, EpochComplete: true });
        output.WriteLine($"killed after the commit of {Path.GetFileName(boundary.Path)} (the end of phase 1: the next process starts phase 2)");
        var second = KillWhen(killed, config, c => c is { Phase: 1, Epoch: 1, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(second.Path)} (phase 2, epoch 2, position {second.DataPosition}, step {second.Step})");
        var last = Commits(killed).Last();
        Assert.Equal(1, last.Phase);
        Assert.False(last.EpochComplete);
        Assert.True(last.DataPosition > 0);

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", killed);
        Assert.Equal(0, status.ExitCode);
        output.WriteLine(status.Stdout);
        Assert.Contains("resume point: phase 2, epoch 2", status.Stdout);

        Train(_dir, killed, config);
        var commits = Commits(killed);
        var next = commits[commits.IndexOf(last) + 1]; // the resumed process continued from the last commit, not from scratch
        Assert.Equal((1, 1), (next.Phase, next.Epoch));
        // (a kill right after the epoch's last mid-epoch commit resumes at the epoch's end: the next commit is its end)
        Assert.True(next.Step > last.Step && next.DataPosition > last.DataPosition
                    || next.Step == last.Step && next.DataPosition == last.DataPosition && next.EpochComplete,
            $"after the commit at step {last.Step}, position {last.DataPosition} came step {next.Step}, position {next.DataPosition}");
        Assert.Single(JournalEvents(killed, "RunStarted"));

        AssertSameEnd(straight, killed, phase: 1, epoch: 2, output);
    }

    Commit KillWhen(string runDir, string config, Func<Commit, bool> when) =>
        TrainedRunProbe.KillWhen(_dir, TrainArgs(runDir, config), runDir, postgres: null, when);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
