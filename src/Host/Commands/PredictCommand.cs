using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ActorTraining.Actors;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
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

            var windows = files.Select(f => Windows(f, windowSeconds, hopSeconds)).ToList();
            var entries = files.SelectMany((f, i) => windows[i].Select(start => new DatasetEntry(f, [], start))).ToList();
            var scores = await CheckpointJob.Run<ClipScores>(path, entries, ScoreOutput.Probabilities, parse.GetValue(CliErrors.Verbose));
            var rowOf = scores.Positions!.Select((position, row) => (position, row)).ToDictionary(p => p.position, p => scores.Scores[p.row]);
            var labels = manifest.Labels;
            int k = Math.Max(1, parse.GetValue(top)), entry = 0;
            var results = new List<FileResult>();
            for (int i = 0; i < files.Count; i++)
            {
                var rows = new List<(double Start, float[] Scores)>();
                foreach (var start in windows[i])
                    if (rowOf.TryGetValue(entry++, out var s)) rows.Add((start, s));
                if (rows.Count == 0) { results.Add(new FileResult(files[i], null, [])); continue; }
                var mean = new float[labels.Count];
                foreach (var (_, s) in rows)
                    for (int c = 0; c < mean.Length; c++) mean[c] += s[c] / rows.Count;
                results.Add(new FileResult(files[i], mean, rows));
            }
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

    sealed record FileResult(string File, float[]? Overall, IReadOnlyList<(double Start, float[] Scores)> Windows);

    /// <summary>Window starts over the recording: 0, hop, 2·hop, … until a window reaches its end (the last one padded).
    /// A file no longer than one window, or one that cannot be read, is one clip from its start.</summary>
    static IReadOnlyList<double> Windows(string file, double window, double hop)
    {
        double duration;
        try { duration = AudioDecoder.Decode(file).Length / 16000.0; }
        catch (AudioDecodeException) { return [0]; } // the pipeline skips it and says so
        var starts = new List<double> { 0 };
        for (double s = hop; starts[^1] + window < duration && starts.Count < 1_000_000; s += hop)
            starts.Add(Math.Round(s, 6));
        return starts;
    }

    static IEnumerable<int> Best(float[] scores, int k) => Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).Take(k);

    static string Text(float[] scores, LabelSet labels, int k) => string.Join("; ",
        Best(scores, k).Select(i => $"{labels.DisplayNames[i]} ({labels.Mids[i]}) {scores[i].ToString("F3", CultureInfo.InvariantCulture)}"));

    static void PrintText(List<FileResult> results, LabelSet labels, int k, double window)
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

    static void PrintJson(List<FileResult> results, LabelSet labels, int k, double window)
    {
        JsonArray Top(float[] scores) => new(Best(scores, k).Select(i => (JsonNode)new JsonObject
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
