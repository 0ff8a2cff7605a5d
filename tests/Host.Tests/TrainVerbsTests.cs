using ActorTraining.Compute.Reporting;
using Xunit.Abstractions;

namespace ActorTraining.Host.Tests;

/// <summary>`train`, `status`, `evaluate`, `predict` on one small real run (see <see cref="TrainedRunFixture"/>).</summary>
public sealed class TrainVerbsTests(TrainedRunFixture run, ITestOutputHelper output) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void TrainSkipsTheUnreadableFileListsItAndFinishesWithASummaryAndMetricsLog()
    {
        output.WriteLine(run.Train.Stdout);
        Assert.True(run.Train.ExitCode == 0, run.Train.Stdout + run.Train.Stderr);
        Assert.Contains($"skipped unreadable audio {run.Broken}", run.Train.Stdout);
        Assert.Contains("Skipped", run.Train.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("tokens/clip", run.Train.Stdout);
        var records = RunLog.Read(Path.Combine(run.RunDir, RunLog.JsonlName));
        Assert.Equal(2, records.Count);
        Assert.Equal([0, 1], records.Select(r => r.PhaseIndex));
        Assert.True(records[1].CumulativeFlops > records[0].CumulativeFlops);
        Assert.True(File.Exists(Path.Combine(run.RunDir, "metrics.csv")));
    }

    [Fact]
    public void RerunningAFinishedRunTrainsNothingMore()
    {
        var again = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(2), "train", "--config", run.Config, "--run-dir", run.RunDir);
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.DoesNotContain("phase 1 epoch 1/1:", again.Stdout);
        Assert.Equal(2, RunLog.Read(Path.Combine(run.RunDir, RunLog.JsonlName)).Count);
    }

    [Fact]
    public void StatusShowsPhasesEpochsMetricsAndCheckpointsFromTheJournal()
    {
        var status = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "status", "--run-dir", run.RunDir);
        output.WriteLine(status.Stdout);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("completed", status.Stdout);
        Assert.Contains("phase 1: pool-max C=2", status.Stdout);
        Assert.Contains("phase 2: pool-max C=1", status.Stdout);
        Assert.Contains("accuracy", status.Stdout);
        Assert.Contains(Path.GetFileName(run.FinalCheckpoint), status.Stdout);
    }

    [Fact]
    public void StatusOnADirectoryWithoutAJournalIsAClearError()
    {
        var status = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "status", "--run-dir", Path.Combine(run.Dir, "corpus"));
        Assert.Equal(2, status.ExitCode);
        Assert.Contains("no run journal", status.Stderr);
    }

    [Fact]
    public void EvaluateReportsMetricsOfACheckpointOnADatafile()
    {
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(2), "evaluate", "--checkpoint", run.FinalCheckpoint, "--data", run.Corpus.EvalDatafile);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"accuracy\s+0\.\d{4}", r.Stdout);
        Assert.Matches(@"mauc\s+", r.Stdout);
        // the same number the run recorded for its last epoch on this evaluation set
        var last = RunLog.Read(Path.Combine(run.RunDir, RunLog.JsonlName))[^1];
        Assert.Contains($"accuracy   {last.Accuracy:F4}", r.Stdout);
    }

    [Fact]
    public void PredictPrintsTheTopLabelsWithScoresAndSkipsUnreadableFiles()
    {
        var clip = Directory.GetFiles(Path.Combine(run.Corpus.Folder, "eval"), "*.wav", SearchOption.AllDirectories).Order().First();
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(2), "predict", clip, run.Broken, "--checkpoint", run.FinalCheckpoint, "--top", "3");
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        var line = r.Stdout.Split('\n').Single(l => l.StartsWith(clip));
        Assert.Equal(3, line.Split(';').Length);
        Assert.Matches(@"\(/t/[a-z_]+\) [01]\.\d{3}", line);
        Assert.Contains($"{run.Broken}: skipped", r.Stdout);
    }

    [Fact]
    public void ACheckpointThatFailsItsHashIsRefusedByName()
    {
        var copy = Path.Combine(run.Dir, "tampered.ckpt");
        File.Copy(run.FinalCheckpoint, copy, overwrite: true);
        using (var f = new FileStream(copy, FileMode.Open)) { f.Seek(f.Length / 2, SeekOrigin.Begin); f.WriteByte(0x5A); f.WriteByte(0xA5); }
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "evaluate", "--checkpoint", copy, "--data", run.Corpus.EvalDatafile);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(copy, r.Stderr);
        Assert.Contains("SHA-256", r.Stderr);
    }

    [Fact]
    public void ADifferentConfigurationOnAnExistingRunDirectoryIsRefused()
    {
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "train", "--config", run.Config, "--run-dir", run.RunDir, "--set", "training.seed=99");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("different configuration", r.Stderr);
    }
}
