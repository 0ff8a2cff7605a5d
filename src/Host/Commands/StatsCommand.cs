using System.CommandLine;
using System.Globalization;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Features;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining stats &lt;datafile.json&gt;`: the corpus's fbank mean and std for normalisation, as AST's get_norm_stats.py.</summary>
public static class StatsCommand
{
    public static Command Create()
    {
        var datafile = new Argument<string>("datafile") { Description = "AST datafile: {\"data\":[{\"wav\":…,\"labels\":…}]}" };
        var fbank = new FbankArguments();
        var target = new Option<int?>("--target-length") { Description = "Frames per clip after pad/cut (default 1024 at 10 ms, scaled by 10/shift)" };
        var command = new Command("stats", "Print the mean and std of a corpus's padded fbank (the dataset normalisation statistics)");
        command.Arguments.Add(datafile);
        fbank.AddTo(command);
        command.Options.Add(target);
        command.SetAction(parse =>
        {
            var options = fbank.Read(parse);
            int targetLength = parse.GetValue(target) ?? (int)(1024 * 10 / options.FrameShiftMs);
            using var entries = CorpusIndex.OfDatafile(parse.GetValue(datafile)!, indexDirectory: null);
            int skipped = 0;
            double mean, std;
            try
            {
                (mean, std) = CorpusStats.Compute(entries.Select(e => e.AudioPath), options, targetLength, e =>
                {
                    skipped++;
                    Console.WriteLine($"skipped: {Running.CliErrors.OneLine(e.Message)}");
                });
            }
            catch (InvalidDataException) when (skipped == entries.Count)
            {
                throw new DatasetException(Path.GetFullPath(parse.GetValue(datafile)!), $"none of its {entries.Count} clip(s) could be decoded (each is listed above), so there are no statistics");
            }
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"mean {mean.ToString("0.0000000", inv)}");
            Console.WriteLine($"std {std.ToString("0.0000000", inv)}");
            Console.WriteLine($"clips {entries.Count - skipped}, skipped {skipped}, target length {targetLength}, frame shift {options.FrameShiftMs} ms");
            return 0;
        });
        return command;
    }
}
