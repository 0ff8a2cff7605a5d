using ActorTraining.Compute.Reporting;
using Xunit.Abstractions;

namespace ActorTraining.Host.Tests;

/// <summary>`train`, `status`, `evaluate`, `predict`, `export` on one small real run (see <see cref="TrainedRunFixture"/>).</summary>
public sealed class TrainVerbsTests(TrainedRunFixture run, ITestOutputHelper output) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void TrainSkipsTheUnreadableFileListsItAndFinishesWithASummaryAndMetricsLog()
    {
        output.WriteLine(run.Train.Stdout);
        Assert.True(run.Train.ExitCode == 0, run.Train.Stdout + run.Train.Stderr);
        Assert.Contains($"warning: skipped {run.Broken}: ", run.Train.Stdout); // what is wrong with it follows
        Assert.Equal("", run.Train.Stderr);
        Assert.Matches(@"loss \d\.\d{4}  grad-norm \d", run.Train.Stdout);
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

    [Fact]
    public void ExportWritesAHuggingFaceFolderThatANewRunStartsFromWithTheSameWeights()
    {
        var folder = Path.Combine(run.Dir, "hf-export");
        var export = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", run.FinalCheckpoint, "--format", "hf", "--out", folder);
        output.WriteLine(export.Stdout + export.Stderr);
        Assert.Equal(0, export.ExitCode);
        foreach (var file in new[] { "config.json", "model.safetensors", "preprocessor_config.json" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);

        // a run that starts from the export and takes one epoch at a learning rate too small to move a float32 weight
        var newRun = Path.Combine(run.Dir, "from-hf");
        var train = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(3), "train", "--config", run.Config, "--run-dir", newRun,
            "--set", $"model.init=hf:{folder}", "--set", "curriculum=[ { method = pool, factor = 1, epochs = 1, lr = 1e-12 } ]");
        output.WriteLine(train.Stdout + train.Stderr);
        Assert.Equal(0, train.ExitCode);
        Assert.Contains($"model.init = hf:{folder}", train.Stdout + train.Stderr);
        var started = Directory.GetFiles(Path.Combine(newRun, "checkpoints"), "r0-p0-*-end*.ckpt").Single();
        string Evaluate(string checkpoint)
        {
            var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(2), "evaluate", "--checkpoint", checkpoint, "--data", run.Corpus.EvalDatafile);
            Assert.Equal(0, r.ExitCode);
            return r.Stdout;
        }
        var expected = Evaluate(run.FinalCheckpoint);
        output.WriteLine(expected);
        Assert.Equal(expected, Evaluate(started));
    }

    [Fact]
    public void ExportWritesAnOnnxModelOfTheClassifier()
    {
        var file = Path.Combine(run.Dir, "model.onnx");
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", run.FinalCheckpoint, "--format", "onnx", "--out", file);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("ONNX opset 17, input 'input_values' float32 [batch, 256, 64]", r.Stdout);
        Assert.Contains("output 'logits' [batch, 6]", r.Stdout);
        Assert.True(new FileInfo(file).Length > 100_000); // the weights are in it (dim 96, depth 2: ~0.9 MB)
    }

    [Fact]
    public void ExportOfACompressedPhasesCheckpointIsRefusedNamingThePhase()
    {
        var coarse = Directory.GetFiles(Path.Combine(run.RunDir, "checkpoints"), "r0-p0-*-end*.ckpt").Single();
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", coarse, "--format", "hf", "--out", Path.Combine(run.Dir, "coarse-hf"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("phase 0 (pool, C = 2)", r.Stderr);
        Assert.Contains(coarse, r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(run.Dir, "coarse-hf")));
    }

    [Fact]
    public void AMeanTokensModelTrainsExportsToOnnxAndIsRefusedForTransformersInOneLine()
    {
        var runDir = Path.Combine(run.Dir, "mean-tokens");
        var train = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(3), "train", "--config", run.Config, "--run-dir", runDir,
            "--set", "model.pooling=mean-tokens", "--set", "curriculum=[ { method = pool, factor = 1, epochs = 1 } ]");
        Assert.True(train.ExitCode == 0, train.Stderr);
        var checkpoint = Directory.GetFiles(Path.Combine(runDir, "checkpoints"), "r0-p0-*-end*.ckpt").Single();
        var hf = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", checkpoint, "--format", "hf", "--out", Path.Combine(run.Dir, "mean-hf"));
        output.WriteLine(hf.Stderr);
        Assert.NotEqual(0, hf.ExitCode);
        Assert.Single(hf.Stderr.Trim().Split('\n'));
        Assert.Contains("pools mean-tokens (model.pooling)", hf.Stderr);
        Assert.False(Directory.Exists(Path.Combine(run.Dir, "mean-hf")));
        var onnx = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", checkpoint, "--format", "onnx", "--out", Path.Combine(run.Dir, "mean.onnx"));
        Assert.True(onnx.ExitCode == 0, onnx.Stderr);
    }

    [Fact]
    public void TensorBoardHoldsEveryEpochOfTheMetricsLogEveryStepAndEachPhase()
    {
        var folder = Path.Combine(run.RunDir, "tensorboard", "r0 pool-max 2→1");
        var events = Directory.GetFiles(folder, "events.out.tfevents.*").SelectMany(TensorBoardReader.Read).ToList();
        var values = events.SelectMany(e => e.Values.Select(v => (e.Step, Value: v))).ToList();
        var records = RunLog.Read(Path.Combine(run.RunDir, RunLog.JsonlName));
        Assert.Equal(2, records.Count);
        foreach (var r in records)
        {
            Assert.Equal((float)r.Accuracy, values.Single(v => v.Value.Tag == "epoch/accuracy" && v.Step == r.Step).Value.Simple);
            Assert.Equal((float)r.CumulativeFlops, values.Single(v => v.Value.Tag == "epoch/flops" && v.Step == r.Step).Value.Simple);
        }
        var phases = values.Where(v => v.Value.Tag == "phase").ToList();
        Assert.Equal(2, phases.Count);
        Assert.Contains("pool max, C = 2", phases[0].Value.Text);
        Assert.Equal("text", phases[0].Value.Plugin);
        // one loss per optimiser step of the run, on the run's step axis
        var losses = values.Where(v => v.Value.Tag == "step/loss").Select(v => v.Step).ToList();
        Assert.Equal(Enumerable.Range(1, (int)records[^1].Step).Select(i => (long)i), losses);
        var norms = values.Where(v => v.Value.Tag == "step/grad-norm").ToList();
        Assert.Equal(losses, norms.Select(v => v.Step));
        Assert.All(norms, v => Assert.True(v.Value.Simple is { } g && g > 0 && float.IsFinite(g)));
        foreach (var r in records)
            Assert.Equal((float)r.GradNormMax!.Value, values.Single(v => v.Value.Tag == "epoch/grad-norm-max" && v.Step == r.Step).Value.Simple);
        Assert.Equal(1, events.Single(e => e.SessionStatus is not null).SessionStatus);
    }

    /// <summary>A 60 s recording made of the corpus's clips one after another (16-bit WAV), and cut-outs of it.</summary>
    (string Path, float[] Samples) LongRecording()
    {
        var path = Path.Combine(run.Dir, "long-60s.wav");
        var clips = Directory.GetFiles(Path.Combine(run.Corpus.Folder, "train"), "*.wav", SearchOption.AllDirectories).Order().ToList();
        var samples = new List<float>();
        for (int i = 0; samples.Count < 60 * 16000; i++) samples.AddRange(Compute.Audio.AudioDecoder.Decode(clips[i % clips.Count]));
        Compute.Training.WavFile.WriteMono16(path, samples.Take(60 * 16000).ToArray(), 16000);
        return (path, Compute.Audio.AudioDecoder.Decode(path));
    }

    static System.Text.Json.JsonElement Predict(TrainedRunFixture run, params string[] args)
    {
        var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(3), ["predict", .. args, "--checkpoint", run.FinalCheckpoint, "--top", "6", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        // batches of 16 windows or more: where libtorch would consider NNPACK (and print its warning on a CPU it cannot use);
        // stderr holds our own warnings only
        Assert.All(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("warning: ", line));
        return System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement;
    }

    static Dictionary<string, double> Scores(System.Text.Json.JsonElement top) =>
        top.EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!, t => t.GetProperty("score").GetDouble());

    [Fact]
    public void PredictLabelsALongRecordingInWindowsEachAsItsCutOutAndOverallByTheirMean()
    {
        var (path, samples) = LongRecording();
        var text = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(3), "predict", path, "--checkpoint", run.FinalCheckpoint, "--top", "2", "--hop", "1.28");
        output.WriteLine(text.Stdout + text.Stderr);
        Assert.Equal(0, text.ExitCode);
        // windows of the model's 2.56 s every 1.28 s until one reaches the end: starts 0, 1.28, …, 57.60 (46 windows)
        var timeline = text.Stdout.Split('\n').Where(l => l.StartsWith(path + " ")).ToList();
        Assert.Equal(46, timeline.Count);
        Assert.Contains("57.60–   60.16 s: ", timeline[^1]);
        Assert.Contains($"{path}: overall (mean of 46 windows): ", text.Stdout);

        var json = Predict(run, path, "--hop", "1.28").GetProperty("files")[0];
        var windows = json.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(46, windows.Count);
        var overall = Scores(json.GetProperty("overall"));
        foreach (var (id, score) in overall) // every score printed to 6 decimals: the mean of rounded ones is within 1e-6 of the rounded mean
            Assert.InRange(Math.Abs(windows.Average(w => Scores(w.GetProperty("top"))[id]) - score), 0, 1.01e-6);

        // a window is the clip cut out at its start: the decoder seeks, the features are the cut-out's
        foreach (var (index, start) in new[] { (0, 0.0), (10, 12.8) })
        {
            var cut = Path.Combine(run.Dir, $"cut-{start}.wav");
            Compute.Training.WavFile.WriteMono16(cut, samples.AsSpan((int)(start * 16000), 3 * 16000), 16000);
            Assert.Equal(start, windows[index].GetProperty("start").GetDouble());
            // (one 3 s window: the model reads its first 2.56 s, + 25 ms for the last frame, as it reads each window's)
            var alone = Scores(Predict(run, cut, "--window", "3").GetProperty("files")[0].GetProperty("overall"));
            var windowed = Scores(windows[index].GetProperty("top"));
            foreach (var (id, score) in alone) Assert.Equal(score, windowed[id], 5);
        }
    }

    [Fact]
    public void EmbedWritesOneRowPerReadableClipTheSameOnEveryCall()
    {
        var clips = Directory.GetFiles(Path.Combine(run.Corpus.Folder, "eval"), "*.wav", SearchOption.AllDirectories).Order().Take(2).ToList();
        float[] Embed(string name)
        {
            var outPath = Path.Combine(run.Dir, name);
            var r = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(2), "embed", clips[0], run.Broken, clips[1], clips[0], "--checkpoint", run.FinalCheckpoint, "--out", outPath);
            output.WriteLine(r.Stdout + r.Stderr);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains($"skipped unreadable audio {run.Broken}", r.Stderr);
            Assert.Equal([clips[0], clips[1], clips[0]], File.ReadAllLines(outPath + ".txt"));
            var (data, shape) = Compute.Features.NpyFile.Read(outPath);
            Assert.Equal([3L, 96L], shape);
            return data;
        }
        var first = Embed("a.npy");
        Assert.Equal(first[..96], first[192..]);
        Assert.NotEqual(first[..96], first[96..192]);
        Assert.Equal(first, Embed("b.npy"));
    }

    [Fact]
    public void OnATerminalTheProgressLineIsRedrawnInPlaceWithAnEpochBar()
    {
        var r = Cli.RunOnTerminal(run.Dir, TimeSpan.FromMinutes(3), "train", "--config", run.Config, "--run-dir", Path.Combine(run.Dir, "on-a-terminal"),
            "--set", "curriculum=[ { method = pool, factor = 1, epochs = 1 } ]");
        output.WriteLine(r.Stdout.Replace("\r", "⏎\n"));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        // a carriage return, a 20-cell bar of the epoch, then the line: one line redrawn, not one line per step
        var redraws = System.Text.RegularExpressions.Regex.Matches(r.Stdout, @"\r\[[#.]{20}\] \[baseline\] phase 1/1 epoch 1/1 \d+/\d+ clips  step \d+  \d+ samples/s  phase ETA \d\d:\d\d  loss \d\.\d{4}");
        Assert.True(redraws.Count >= 2, $"{redraws.Count} redraws");
        Assert.Contains("[####################]", r.Stdout); // the epoch's last step fills the bar
    }
}
