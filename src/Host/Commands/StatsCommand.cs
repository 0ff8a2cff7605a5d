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
        var shift = new Option<double>("--frame-shift-ms") { Description = "Frame shift in ms", DefaultValueFactory = _ => 10 };
        var bins = new Option<int>("--mel-bins") { Description = "Mel bins", DefaultValueFactory = _ => 128 };
        var target = new Option<int?>("--target-length") { Description = "Frames per clip after pad/cut (default 1024 at 10 ms, scaled by 10/shift)" };
        var command = new Command("stats", "Print the mean and std of a corpus's padded fbank (the dataset normalisation statistics)");
        command.Arguments.Add(datafile);
        command.Options.Add(shift);
        command.Options.Add(bins);
        command.Options.Add(target);
        command.SetAction(parse =>
        {
            try
            {
                var options = new FbankOptions(parse.GetValue(shift), parse.GetValue(bins));
                int targetLength = parse.GetValue(target) ?? (int)(1024 * 10 / options.FrameShiftMs);
                using var entries = CorpusIndex.OfDatafile(parse.GetValue(datafile)!, indexDirectory: null);
                int skipped = 0;
                var (mean, std) = CorpusStats.Compute(entries.Select(e => e.AudioPath), options, targetLength, e =>
                {
                    skipped++;
                    Console.Error.WriteLine($"skipped: {FeaturesCommand.OneLine(e.Message)}");
                });
                var inv = CultureInfo.InvariantCulture;
                Console.WriteLine($"mean {mean.ToString("0.0000000", inv)}");
                Console.WriteLine($"std {std.ToString("0.0000000", inv)}");
                Console.WriteLine($"clips {entries.Count - skipped}, skipped {skipped}, target length {targetLength}, frame shift {options.FrameShiftMs} ms");
                return 0;
            }
            catch (Exception e) when (e is DatasetException or AudioDecodeException or ArgumentException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"error: {FeaturesCommand.OneLine(e.Message)}");
                return 1;
            }
        });
        return command;
    }
}
