using System.Diagnostics;
using ActorTraining.Actors;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Reporting;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// training.weight-averaging end to end: `train` averages the last phase's epochs 2–3 once it is trained, evaluates the
/// average and reports it (console, summary table, metrics.jsonl, status), and makes it the final checkpoint; a run killed
/// -9 right after its last epoch's commit — its average not written or not journaled — resumes to the same average, equal
/// to the mean of the two epoch checkpoints it read, and a failure while writing it is a fault the run recovers from.
/// </summary>
public sealed class WeightAveragingTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("weight-averaging-").FullName;

    const string Experiment = """
        data.synthetic { train-clips-per-class = 12, eval-clips-per-class = 3, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 8, seed = 3, weight-averaging { start = 2, end = 3 } }
        curriculum = [
          { method = pool, factor = 2, epochs = 1, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 3, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    static string Averaged(string runDir) => Path.Combine(runDir, "checkpoints", "r0-p1-averaged-e2-e3.ckpt");

    [Fact]
    public void TheAverageOfTheLastEpochsIsEvaluatedReportedAndFinalAndAKilledRunResumesToTheSameAverage()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");

        var clock = Stopwatch.StartNew();
        var reference = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(straight, config));
        output.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s\n{reference.Stdout}");
        Assert.True(reference.ExitCode == 0, reference.Stdout + reference.Stderr);
        Assert.Contains($"phase 2: weights of epochs 2–3 averaged into {Averaged(straight)}", reference.Stdout);
        Assert.Matches(@"phase 2 weight average of epochs 2–3: accuracy \d\.\d{4}, eval loss \d+\.\d{4} \(the run's final checkpoint\)", reference.Stdout);
        Assert.Matches(@"weight average\s+epochs 2–3\s+\d\.\d{4}", reference.Stdout); // its row in the summary table
        var completed = Assert.Single(JournalEvents(straight, "RunCompleted"));
        Assert.Equal(Averaged(straight), completed.GetProperty("FinalCheckpoint").GetString());

        // metrics.jsonl: four epochs, then the average, carrying the last epoch's position and FLOPs
        var records = RunLog.Read(Path.Combine(straight, RunLog.JsonlName));
        Assert.Equal(5, records.Count);
        var average = records[^1];
        Assert.True(average.IsWeightAverage);
        Assert.Equal((2, 3), (average.AveragedFrom!.Value, average.AveragedTo!.Value));
        Assert.Equal((records[^2].Step, records[^2].CumulativeFlops), (average.Step, average.CumulativeFlops));
        Assert.Contains(",2-3", File.ReadAllLines(Path.Combine(straight, RunLog.CsvName))[^1]);

        // the recorded score is the average's: `evaluate` on the file gives the same numbers
        var evaluated = Cli.RunIn(_dir, TimeSpan.FromMinutes(2), "evaluate", "--checkpoint", Averaged(straight),
            "--data", Path.Combine(straight, "corpus", "eval.json"));
        Assert.True(evaluated.ExitCode == 0, evaluated.Stdout + evaluated.Stderr);
        Assert.Contains($"accuracy   {average.Accuracy:F4}", evaluated.Stdout);
        Assert.Contains($"map        {average.MeanAveragePrecision:F4}", evaluated.Stdout); // differs from every epoch's here
        // the epochs it read are gone once it is written; the last epoch's (the newest commit) stays
        Assert.False(File.Exists(FinalCheckpoint(straight, 1, 1)));
        Assert.True(File.Exists(FinalCheckpoint(straight, 1, 2)));

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", straight);
        output.WriteLine(status.Stdout);
        Assert.Matches(@"weight average of epochs 2–3: accuracy \d\.\d{4}, .*eval_loss \d\.\d{4}.* — .*r0-p1-averaged-e2-e3\.ckpt", status.Stdout);

        // killed -9 straight after the last epoch's end is committed: the average may be unwritten, half written or written
        // and not journaled. The two epochs it reads are still there: copied aside to check the average against.
        var at = KillWhen(_dir, TrainArgs(killed, config), killed, postgres: null, c => c is { Phase: 1, Epoch: 2, EpochComplete: true });
        output.WriteLine($"killed after the commit of {Path.GetFileName(at.Path)}");
        var inputs = new[] { FinalCheckpoint(killed, 1, 1), FinalCheckpoint(killed, 1, 2) }.Select(p =>
        {
            var copy = Path.Combine(_dir, Path.GetFileName(p));
            File.Copy(p, copy);
            return copy;
        }).ToList();
        Assert.Empty(JournalEvents(killed, "WeightsAveraged"));

        // resumed with a fault in the first attempt at writing it: a restart, then the average
        var resumed = Cli.RunWith(new Dictionary<string, string> { [FaultInjection.Variable] = "supervisor.average@1" }, _dir,
            TimeSpan.FromMinutes(4), TrainArgs(killed, config));
        output.WriteLine(resumed.Stdout);
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        // (the summary's line, from the journal: the live warning line can precede this node's registration with the run
        // when the fault comes at once, as here, and is then only in the log)
        Assert.Contains("restarts after faults: 1 (weight averaging: injected fault at supervisor.average)", resumed.Stdout);
        Assert.Single(JournalEvents(killed, "WeightsAveraged"));

        var (equal, maxDiff) = CompareWeights(Averaged(straight), Averaged(killed));
        Assert.True(equal, $"the resumed run's average differs from the uninterrupted one's (max |diff| {maxDiff})");
        Assert.Equal(RunLog.Read(Path.Combine(straight, RunLog.JsonlName))[^1] with { WallSeconds = 0, TrainerIdleSeconds = 0 },
            RunLog.Read(Path.Combine(killed, RunLog.JsonlName))[^1] with { WallSeconds = 0, TrainerIdleSeconds = 0 });
        // and it is the mean of the two epochs (float32 sums as the reference's, to float rounding)
        var (a, b, mean) = (Weights(inputs[0]), Weights(inputs[1]), Weights(Averaged(killed)));
        double worst = 0;
        for (int i = 0; i < mean.Length; i++) worst = Math.Max(worst, Math.Abs(mean[i] - (a[i] + b[i]) / 2f));
        Assert.True(worst < 1e-6, $"max |average − (a + b)/2| = {worst:E2}");
        Assert.True(RelativeDistance(a, mean) > 0 && RelativeDistance(b, mean) > 0);
        Assert.Equal(0, CheckpointFile.ReadHeader(Averaged(killed)).Info.Epoch - 2); // the last input's head
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
