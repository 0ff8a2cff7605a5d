using System.Diagnostics;
using ActorTraining.Compute.Reporting;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// training.objective = ssast-pretrain end to end: `train` as a child process pretrains an SSAST coarse-to-fine through
/// the actors (its C = 2 phase sees half the patches and masks half as many), reports the pretext metrics (console,
/// status, summary, metrics, plots), `evaluate` scores its checkpoint on the same masks, a run killed -9 mid-epoch in
/// the fine phase resumes to the same final checkpoint, bit for bit, and a supervised run starts from that checkpoint
/// (model.init = checkpoint:…) with the encoder's weights.
/// </summary>
[Trait("Category", "Slow")] // a whole SSAST pretraining and fine-tuning: not in ./test --fast
public sealed class SsastTrainingTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ssast-").FullName;

    // frame-based SSAST: 64-mel × 2-frame patches (random frame masking), 128 frames = 64 patches at C = 1
    const string Experiment = """
        data.synthetic { train-clips-per-class = 12, eval-clips-per-class = 3, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        model { embed-dim = 32, depth = 2, heads = 2, mel-bins = 64, target-length = 128, patch-size = 64, patch-time = 2, fstride = 64, tstride = 2 }
        training { objective = ssast-pretrain, batch-size = 8, checkpoint-every-steps = 3, seed = 3 }
        curriculum = [
          { method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    [Fact]
    public void AnSsastPretrainsCoarseToFineReportsItsPretextMetricsResumesAfterKillAndStartsAFineTuning()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");

        var clock = Stopwatch.StartNew();
        var reference = Train(_dir, straight, config);
        output.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s\n{reference.Stdout}");
        Assert.Contains("Run: SSAST pool-max 2→1", reference.Stdout);
        Assert.Contains("phase 2 epoch 2/2: pretext_accuracy ", reference.Stdout);

        var records = RunLog.Read(Path.Combine(straight, RunLog.JsonlName));
        Assert.Equal(4, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal("SSAST pool-max 2→1", r.Run);
            Assert.Equal("pretext_accuracy", r.MetricName);
            Assert.InRange(r.Metric, 0, 1);
            Assert.True(r.Mse is > 0 and < 10, $"mse {r.Mse}");
            Assert.True(r.EvalLoss > 10 * r.Mse!.Value, "eval loss is nce + 10 · mse");
            Assert.True(double.IsNaN(r.Accuracy), "no classification metrics while pretraining");
        });
        Assert.Equal(64, records[^1].TokensPerClip);
        Assert.Equal(32, records[0].TokensPerClip);
        // a phase's training loss falls while it pretrains
        Assert.True(records[1].TrainLoss < records[0].TrainLoss, $"C = 2 train loss {records[0].TrainLoss} → {records[1].TrainLoss}");
        double coarse = records[1].CumulativeFlops / 2, fine = (records[3].CumulativeFlops - records[1].CumulativeFlops) / 2;
        output.WriteLine($"FLOPs per epoch: C = 2 {coarse:E3}, C = 1 {fine:E3} (ratio {coarse / fine:F3})");
        Assert.InRange(coarse / fine, 0.4, 0.55);
        Assert.Contains(",mse", File.ReadLines(Path.Combine(straight, "metrics.csv")).First());
        Assert.True(File.Exists(Path.Combine(straight, "metric-flops.png")));

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", straight);
        output.WriteLine(status.Stdout);
        Assert.Contains("model: SSAST pretraining AST (embed 32, depth 2, heads 2, 64 mel × 128 frames, patches 64×2 stride 64/2), 50 of 64 patches masked", status.Stdout);
        Assert.Contains("mse ", status.Stdout);

        // `evaluate` builds the pretraining model from the file and scores it on the run's evaluation masks
        var final = FinalCheckpoint(straight, 1, 1);
        var evaluated = Cli.RunIn(_dir, TimeSpan.FromMinutes(2), "evaluate", "--checkpoint", final, "--data", Path.Combine(straight, "corpus", "eval.json"));
        Assert.True(evaluated.ExitCode == 0, evaluated.Stdout + evaluated.Stderr);
        Assert.Contains($"pretext_accuracy {records[^1].Metric:F4}", evaluated.Stdout);
        Assert.Contains($"mse        {records[^1].Mse:F4}", evaluated.Stdout);
        // it has no classifier: predict and export say so
        var clip = Directory.EnumerateFiles(Path.Combine(straight, "corpus", "eval"), "*.wav", SearchOption.AllDirectories).First();
        var predict = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "predict", "--checkpoint", final, clip);
        Assert.NotEqual(0, predict.ExitCode);
        Assert.Contains("an SSAST pretraining checkpoint has no classifier to predict with", predict.Stderr);
        var export = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", final, "--format", "onnx", "--out", Path.Combine(_dir, "m.onnx"));
        Assert.NotEqual(0, export.ExitCode);
        Assert.Contains("(pretraining: no classifier yet; fine-tune it with model.init = checkpoint:<file>)", export.Stderr);

        var at = KillWhen(_dir, TrainArgs(killed, config), killed, postgres: null, c => c is { Phase: 1, Epoch: 0, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(at.Path)}");
        Train(_dir, killed, config);
        AssertSameEnd(straight, killed, phase: 1, epoch: 1, output);

        // the reference's fine-tuning stage: a supervised AST on the same patches, overlapping (stride 1 in time), from it
        var tune = Path.Combine(_dir, "tune.hocon");
        File.WriteAllText(tune, $$"""
            data.synthetic { train-clips-per-class = 12, eval-clips-per-class = 3, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
            model { embed-dim = 32, depth = 2, heads = 2, mel-bins = 64, target-length = 128, patch-size = 64, patch-time = 2, fstride = 64, tstride = 1,
                    init = "checkpoint:{{final}}" }
            training.batch-size = 8
            curriculum = [ { factor = 1, epochs = 1, lr = 1e-3 } ]
            compare = []
            """);
        var tuned = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(Path.Combine(_dir, "tuned"), tune));
        output.WriteLine(tuned.Stdout);
        Assert.True(tuned.ExitCode == 0, tuned.Stdout + tuned.Stderr);
        Assert.Contains("it has no AST head: the head starts from the run's seed", tuned.Stdout);
        Assert.Contains("phase 1 epoch 1/1: accuracy ", tuned.Stdout);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
