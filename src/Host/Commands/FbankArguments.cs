using System.CommandLine;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Training;

namespace ActorTraining.Host.Commands;

/// <summary>The fbank options `features` and `stats` share, turned into checked <see cref="FbankOptions"/>.</summary>
public sealed class FbankArguments
{
    /// <summary>Upper bounds that keep a typo from allocating gigabytes (AST uses 128 bins and 10·C ms shifts).</summary>
    const int MaxMelBins = 1024;
    const double MaxFrameShiftMs = 1000;

    readonly Option<double> _shift = new("--frame-shift-ms") { Description = "Frame shift in ms (10·C for Frame-Shift compression)", DefaultValueFactory = _ => 10 };
    readonly Option<int> _bins = new("--mel-bins") { Description = "Mel bins", DefaultValueFactory = _ => 128 };

    public void AddTo(Command command)
    {
        command.Options.Add(_shift);
        command.Options.Add(_bins);
    }

    public FbankOptions Read(ParseResult parse)
    {
        double shift = parse.GetValue(_shift);
        int bins = parse.GetValue(_bins);
        if (!(shift > 0 && shift <= MaxFrameShiftMs)) throw new ConfigException(_shift.Name, $"{shift} is not a frame shift in ms (0 < shift ≤ {MaxFrameShiftMs})");
        if (bins is < 4 or > MaxMelBins) throw new ConfigException(_bins.Name, $"{bins} mel bins: need 4 to {MaxMelBins}");
        var options = new FbankOptions(shift, bins);
        try { options.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new ConfigException(_shift.Name, e.Message.Replace($" (Parameter '{e.ParamName}')", "")); }
        return options;
    }
}
