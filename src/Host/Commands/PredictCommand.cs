using System.CommandLine;
using ActorTraining.Compute.Audio;
using System.Globalization;
using ActorTraining.Compute.Data;
using ActorTraining.Host.Running;
using ActorTraining.Messages;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining predict &lt;audio...&gt; --checkpoint K [--top 5]`: the top-k labels of each clip with their scores.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var audio = new Argument<string[]>("audio") { Description = "Audio files to label", Arity = ArgumentArity.OneOrMore };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file written by train", Required = true };
        var top = new Option<int>("--top") { Description = "How many labels to show per clip", DefaultValueFactory = _ => 5 };
        var command = new Command("predict", "Label audio files with a trained checkpoint (top-k labels with scores)") { audio, checkpoint, top };
        command.SetAction(async (parse, cancel) =>
        {
            var files = parse.GetValue(audio)!.Select(Path.GetFullPath).ToList();
            foreach (var f in files)
                if (!File.Exists(f)) throw new FileNotFoundException($"{f}: no such audio file", f);
            var path = parse.GetValue(checkpoint)!;
            var labels = CheckpointJob.LabelsOf(path);
            var entries = files.Select(f => new DatasetEntry(f, [])).ToList();
            var scores = await CheckpointJob.Run<ClipScores>(path, entries, prediction: true, parse.GetValue(CliErrors.Verbose));
            var skipped = scores.Skipped.ToHashSet();
            var k = Math.Max(1, parse.GetValue(top));
            int row = 0;
            foreach (var f in files)
            {
                if (skipped.Contains(f)) { Console.WriteLine($"{f}: skipped (unreadable audio)"); continue; }
                var s = scores.Scores[row++];
                var best = Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).Take(k)
                    .Select(i => $"{labels.DisplayNames[i]} ({labels.Mids[i]}) {s[i].ToString("F3", CultureInfo.InvariantCulture)}");
                Console.WriteLine($"{f}: {string.Join("; ", best)}");
            }
            if (skipped.Count == files.Count)
            {
                // the pipeline only lists what it skipped; decoding the one file again (only on this failure path) says why
                if (files.Count == 1) AudioDecoder.Decode(files[0]);
                throw new InvalidDataException(files.Count == 1 ? $"{files[0]}: not readable audio" : $"none of the {files.Count} files is readable audio");
            }
            return 0;
        });
        return command;
    }
}
