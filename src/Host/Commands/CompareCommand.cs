using System.CommandLine;
using ActorTraining.Compute.Reporting;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining compare &lt;run-dir&gt;... --out P`: overlays runs (the first is the reference, usually the
/// baseline): prints final metric, FLOPs and wall time with fractions of the first, writes P-flops.png and P-wall.png.</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("run-dir")
        {
            Description = "Run directories (each with metrics.jsonl), or folders of run directories; the first run is the reference",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--out") { Description = "PNG path prefix: writes <prefix>-flops.png and <prefix>-wall.png (default: no plots)" };
        var command = new Command("compare", "Compare runs: final metric, training FLOPs and wall time as fractions of the first run, overlay plots");
        command.Arguments.Add(runs);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var series = RunComparison.Load(parse.GetValue(runs)!);
            Console.Write(RunComparison.FormatTable(series));
            if (parse.GetValue(output) is { } prefix)
            {
                var files = MetricPlots.Write(series, prefix);
                Console.WriteLine($"plots: {files.VersusFlops}, {files.VersusWallTime}");
            }
            return 0;
        });
        return command;
    }
}
