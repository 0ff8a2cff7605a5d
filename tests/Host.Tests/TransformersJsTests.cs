using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace ActorTraining.Host.Tests;

/// <summary>
/// `export --format hf` loaded by transformers.js as its users load a model: Node.js, npm's @huggingface/transformers
/// (onnxruntime-node underneath), <c>pipeline('audio-classification', folder)</c> with its own JavaScript fbank, our
/// preprocessor_config.json and label names (tests/Interop/transformersjs, installed by scripts/ensure-npm).
/// </summary>
[Trait("Category", "Slow")]
public sealed class TransformersJsTests(TrainedRunFixture run, ITestOutputHelper output) : IClassFixture<TrainedRunFixture>
{
    static string Client()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var client = Path.Combine(dir.FullName, "tests", "Interop", "transformersjs");
            if (File.Exists(Path.Combine(client, "classify.mjs"))) return client;
        }
        throw new DirectoryNotFoundException($"tests/Interop/transformersjs not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void TransformersJsPipelineOnTheHfExportScoresAsPredictDoes()
    {
        var client = Client();
        var install = Cli.RunProgram(Path.Combine(client, "..", "..", "..", "scripts", "ensure-npm"), new Dictionary<string, string>(), client, TimeSpan.FromMinutes(11));
        Assert.True(install.ExitCode == 0, $"scripts/ensure-npm could not install the transformers.js client: {install.Stderr}");

        // the fixture's run is barely trained (every score near 1/6, whatever the clip); trained on, its scores depend on
        // the clip, so a wrong fbank or normalisation shows
        var runDir = Path.Combine(run.Dir, "sharper");
        var train = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(4), "train", "--config", run.Config, "--run-dir", runDir,
            "--set", "curriculum=[ { method = pool, factor = 1, epochs = 30, lr = 5e-4 } ]", "--set", "training.lr-decay.start=999");
        Assert.True(train.ExitCode == 0, train.Stderr);
        var checkpoint = Directory.GetFiles(Path.Combine(runDir, "checkpoints"), "r0-p0-*-end*.ckpt").Single();
        var folder = Path.Combine(run.Dir, "hf-for-transformersjs");
        var export = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(1), "export", "--checkpoint", checkpoint, "--format", "hf", "--out", folder);
        Assert.Equal(0, export.ExitCode);
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "model.onnx")));

        // six generated clips of the corpus's evaluation set, 1.0-1.2 s each (padded to the model's 2.56 s by both sides)
        var clips = JsonNode.Parse(File.ReadAllText(run.Corpus.EvalDatafile))!["data"]!.AsArray()
            .Select(e => Path.GetFullPath(e!["wav"]!.GetValue<string>(), Path.GetDirectoryName(run.Corpus.EvalDatafile)!)).Take(6).ToArray();
        Assert.Equal(6, clips.Length);

        var predict = Cli.RunIn(run.Dir, TimeSpan.FromMinutes(3), ["predict", .. clips, "--checkpoint", checkpoint, "--top", "100", "--json"]);
        Assert.True(predict.ExitCode == 0, predict.Stderr);
        var ours = JsonNode.Parse(predict.Stdout)!["files"]!.AsArray().ToDictionary(
            f => f!["file"]!.GetValue<string>(),
            f => f!["overall"]!.AsArray().ToDictionary(s => s!["label"]!.GetValue<string>(), s => s!["score"]!.GetValue<double>()));

        var node = Cli.RunProgram("node", new Dictionary<string, string>(), client, TimeSpan.FromMinutes(3), [Path.Combine(client, "classify.mjs"), folder, .. clips]);
        Assert.True(node.ExitCode == 0, $"node classify.mjs failed: {node.Stderr}");
        var theirs = JsonNode.Parse(node.Stdout)!.AsArray();
        Assert.Equal(clips.Length, theirs.Count);
        double worst = 0;
        foreach (var result in theirs)
        {
            var file = result!["file"]!.GetValue<string>();
            var scores = result["scores"]!.AsObject();
            Assert.Equal(ours[file].Count, scores.Count);
            foreach (var (label, score) in scores)
            {
                double error = Math.Abs(score!.GetValue<double>() - ours[file][label]);
                worst = Math.Max(worst, error);
                Assert.True(error <= 2e-3, $"{Path.GetFileName(file)} '{label}': transformers.js {score}, predict {ours[file][label]}");
            }
            var best = scores.MaxBy(s => s.Value!.GetValue<double>()).Key;
            output.WriteLine($"{Path.GetFileName(file)}: transformers.js top '{best}' {scores[best]}, predict {ours[file][best]:F6}");
        }
        // the comparison has teeth only if the scores move with the input by far more than the tolerance
        double spread = ours.First().Value.Keys.Max(label => ours.Values.Max(s => s[label]) - ours.Values.Min(s => s[label]));
        Assert.True(spread > 0.02, $"every label's score varies by at most {spread:F4} across the clips: a wrong fbank would not show");
        output.WriteLine($"largest spread of a label's score across the clips: {spread:F3}");
        output.WriteLine($"largest |transformers.js − predict| over {clips.Length} clips × {ours.First().Value.Count} labels: {worst:E2}");
    }
}
