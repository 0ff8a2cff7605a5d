using System.Diagnostics;
using ActorTraining.Compute.Reporting;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// model.architecture = htsat end to end: `train` as a child process runs an HTS-AT coarse-to-fine through the actors
/// (its C = 2 phase really sees half the tokens and costs about half the FLOPs), reports it as an HTS-AT (status, summary
/// table, metrics, plots), `evaluate` scores its checkpoint, and a run killed -9 mid-epoch in the fine phase resumes to
/// the same final checkpoint, bit for bit (libtorch on one thread).
/// </summary>
[Trait("Category", "Slow")] // a whole HTS-AT training: not in ./test --fast
public sealed class HtsatTrainingTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("htsat-").FullName;

    const string Experiment = """
        data.synthetic { train-clips-per-class = 12, eval-clips-per-class = 3, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        model {
          architecture = htsat
          mel-bins = 64
          target-length = 256
          htsat { embed-dim = 8, depths = [2, 2, 2, 2], heads = [1, 2, 2, 4] }
        }
        training { batch-size = 8, checkpoint-every-steps = 3, seed = 3 }
        curriculum = [
          { method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    [Fact]
    public void AnHtsatTrainsCoarseToFineThroughTheActorsReportsItselfAndResumesAfterKillToTheSameWeights()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");

        var clock = Stopwatch.StartNew();
        var reference = Train(_dir, straight, config);
        output.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s\n{reference.Stdout}");
        Assert.Contains("Run: HTS-AT pool-max 2→1", reference.Stdout);

        var records = RunLog.Read(Path.Combine(straight, RunLog.JsonlName));
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.Equal("HTS-AT pool-max 2→1", r.Run));
        // 256 frames fold into a 256 × 64 image: 64 × 16 patches; at C = 2 half as many, and about half the FLOPs an epoch
        Assert.Equal(1024, records[^1].TokensPerClip);
        Assert.Equal(512, records[0].TokensPerClip);
        double coarse = records[1].CumulativeFlops / 2, fine = (records[3].CumulativeFlops - records[1].CumulativeFlops) / 2;
        output.WriteLine($"FLOPs per epoch: C = 2 {coarse:E3}, C = 1 {fine:E3} (ratio {coarse / fine:F3})");
        Assert.InRange(coarse / fine, 0.45, 0.55);
        Assert.True(File.Exists(Path.Combine(straight, "metric-flops.png")));

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", straight);
        output.WriteLine(status.Stdout);
        Assert.Contains("model: HTS-AT (embed 8, depths 2/2/2/2, heads 1/2/2/4, window 8, 64 mel × 256 frames", status.Stdout);

        // the checkpoint is an HTS-AT's: `evaluate` builds it from the file and scores as the run did
        var evaluated = Cli.RunIn(_dir, TimeSpan.FromMinutes(2), "evaluate", "--checkpoint", FinalCheckpoint(straight, 1, 1),
            "--data", Path.Combine(straight, "corpus", "eval.json"));
        Assert.True(evaluated.ExitCode == 0, evaluated.Stdout + evaluated.Stderr);
        Assert.Contains($"accuracy   {records[^1].Accuracy:F4}", evaluated.Stdout);
        Assert.Contains($"map        {records[^1].MeanAveragePrecision:F4}", evaluated.Stdout);
        // an AST-only export names what it is
        var export = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", FinalCheckpoint(straight, 1, 1), "--format", "onnx",
            "--out", Path.Combine(_dir, "m.onnx"));
        Assert.NotEqual(0, export.ExitCode);
        Assert.Contains("a checkpoint of an HTS-AT; export --format onnx writes AST classifiers", export.Stderr);

        var at = KillWhen(_dir, TrainArgs(killed, config), killed, postgres: null, c => c is { Phase: 1, Epoch: 0, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(at.Path)}");
        Train(_dir, killed, config);
        AssertSameEnd(straight, killed, phase: 1, epoch: 1, output);
    }

    [Fact]
    public void AnHtsatStartsFromTheReferencesLightningCheckpoint()
    {
        string? checkpoint = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && checkpoint is null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "tests", "fixtures", "htsat", "htsat_lightning.ckpt")))
                checkpoint = Path.Combine(dir.FullName, "tests", "fixtures", "htsat", "htsat_lightning.ckpt");
        Assert.NotNull(checkpoint);
        var config = Path.Combine(_dir, "from-reference.hocon");
        // the fixture's geometry (embed 8, depths 2/2/2/2, heads 1/2/2/4, 64 mel); 6 synthetic classes, the checkpoint's 5
        File.WriteAllText(config, Experiment.Replace("architecture = htsat", $"architecture = htsat\n  init = \"htsat:{checkpoint}\"")
            .Replace("{ method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }", "")
            .Replace("{ method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }", "{ method = pool, factor = 1, epochs = 1, lr = 1e-3, warmup-steps = 4 }"));
        var run = Train(_dir, Path.Combine(_dir, "from-reference"), config);
        output.WriteLine(run.Stdout + run.Stderr);
        Assert.Contains($"model.init = htsat:{checkpoint}; its token-semantic head has 5 classes, the run 6: tscam_conv starts from the seed", run.Stdout + run.Stderr);

        var ast = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "ast"), "--set", $"model.init=htsat:{checkpoint}");
        Assert.NotEqual(0, ast.ExitCode);
        Assert.Contains("model.init", ast.Stderr);
        Assert.Contains("an HTS-AT's weights; set model.architecture = htsat", ast.Stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
