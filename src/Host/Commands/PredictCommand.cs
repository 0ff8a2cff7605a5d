using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ActorTraining.Actors;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Reporting;
using ActorTraining.Host.Running;
using ActorTraining.Messages;

namespace ActorTraining.Host.Commands;

/// <summary>
/// `actortraining predict &lt;audio...&gt; --checkpoint K [--top 5] [--window S] [--hop S] [--json]`: the top-k labels of each
/// clip with their scores. A recording longer than the window (default: the model's input, e.g. 10.24 s for AST's
/// 1024 frames) is labelled in sliding windows — a timeline, one line per window — and as a whole by the mean of its
/// windows' scores.
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var audio = new Argument<string[]>("audio") { Description = "Audio files to label", Arity = ArgumentArity.OneOrMore };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file written by train", Required = true };
        var top = new Option<int>("--top") { Description = "How many labels to show per clip", DefaultValueFactory = _ => 5 };
        var window = new Option<double?>("--window") { Description = "Window length in seconds for long recordings (default: the model's input length)" };
        var hop = new Option<double?>("--hop") { Description = "Seconds between window starts (default: half the window)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (files, windows, labels, scores) instead of text" };
        var command = new Command("predict", "Label audio files with a trained checkpoint (top-k labels with scores; long recordings in windows)")
            { audio, checkpoint, top, window, hop, json };
        command.SetAction(async (parse, cancel) =>
        {
            var files = parse.GetValue(audio)!.Select(Path.GetFullPath).ToList();
            foreach (var f in files)
                if (!File.Exists(f)) throw new FileNotFoundException($"{f}: no such audio file", f);
            var path = parse.GetValue(checkpoint)!;
            var manifest = CheckpointManifest.Read(Path.GetFullPath(path));
            var experiment = manifest.Experiment;
            double input = experiment.Model.TargetLength * experiment.FrontEnd.FrameShiftMs / 1000;
            double windowSeconds = parse.GetValue(window) ?? input;
            double hopSeconds = parse.GetValue(hop) ?? windowSeconds / 2;
            if (!(windowSeconds > 0 && windowSeconds <= 3600)) throw new ArgumentException($"--window {windowSeconds}: must be between 0 and 3600 seconds");
            if (!(hopSeconds > 0 && hopSeconds <= windowSeconds)) throw new ArgumentException($"--hop {hopSeconds}: must be > 0 and at most the window ({windowSeconds} s)");
            if (windowSeconds > input)
                Console.Error.WriteLine($"warning: --window {windowSeconds} s is longer than the model's input ({input} s); each window is cut to its first {input} s");

            var windows = files.Select(f => WindowedScores.Starts(f, windowSeconds, hopSeconds)).ToList();
            var entries = files.SelectMany((f, i) => windows[i].Select(start => new DatasetEntry(f, [], start))).ToList();
            var scores = await CheckpointJob.Run<ClipScores>(path, entries, ScoreOutput.Probabilities, parse.GetValue(CliErrors.Verbose));
            var scoreOf = scores.Positions!.Select((position, row) => (position, row)).ToDictionary(p => p.position, p => scores.Scores[p.row]);
            var labels = manifest.Labels;
            int k = Math.Max(1, parse.GetValue(top));
            var results = WindowedScores.Of(files, windows, scoreOf, labels.Count);
            if (parse.GetValue(json)) PrintJson(results, labels, k, windowSeconds);
            else PrintText(results, labels, k, windowSeconds);
            if (results.All(r => r.Overall is null))
            {
                // the pipeline only lists what it skipped; decoding the one file again (only on this failure path) says why
                if (files.Count == 1) AudioDecoder.Decode(files[0]);
                throw new InvalidDataException(files.Count == 1 ? $"{files[0]}: not readable audio" : $"none of the {files.Count} files is readable audio");
            }
            return 0;
        });
        return command;
    }

    static string Text(float[] scores, LabelSet labels, int k) => string.Join("; ",
        WindowedScores.Best(scores, k).Select(i => $"{labels.DisplayNames[i]} ({labels.Mids[i]}) {scores[i].ToString("F3", CultureInfo.InvariantCulture)}"));

    static void PrintText(IReadOnlyList<WindowedScores> results, LabelSet labels, int k, double window)
    {
        foreach (var r in results)
        {
            if (r.Overall is null) { Console.WriteLine($"{r.File}: skipped (unreadable audio)"); continue; }
            if (r.Windows is [{ Start: 0 }]) { Console.WriteLine($"{r.File}: {Text(r.Overall, labels, k)}"); continue; }
            foreach (var (start, scores) in r.Windows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.File} {start,8:F2}–{start + window,8:F2} s: {Text(scores, labels, k)}"));
            Console.WriteLine($"{r.File}: overall (mean of {r.Windows.Count} windows): {Text(r.Overall, labels, k)}");
        }
    }

    static void PrintJson(IReadOnlyList<WindowedScores> results, LabelSet labels, int k, double window)
    {
        JsonArray Top(float[] scores) => new(WindowedScores.Best(scores, k).Select(i => (JsonNode)new JsonObject
        {
            ["label"] = labels.DisplayNames[i], ["id"] = labels.Mids[i], ["score"] = Math.Round(scores[i], 6),
        }).ToArray());
        var files = new JsonArray(results.Select(r => (JsonNode)(r.Overall is null
            ? new JsonObject { ["file"] = r.File, ["skipped"] = true }
            : new JsonObject
            {
                ["file"] = r.File,
                ["overall"] = Top(r.Overall),
                ["windows"] = new JsonArray(r.Windows.Select(w => (JsonNode)new JsonObject
                {
                    ["start"] = w.Start, ["end"] = Math.Round(w.Start + window, 6), ["top"] = Top(w.Scores),
                }).ToArray()),
            })).ToArray());
        Console.WriteLine(new JsonObject { ["window_seconds"] = window, ["files"] = files }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
