using System.CommandLine;
using ActorTraining.Compute.Runtime;
using ActorTraining.Host.Commands;
using ActorTraining.Host.Running;

// Configuration and wiring only: each verb lives in Commands/, one file per verb.
var root = new RootCommand("actortraining: coarse-to-fine training of Audio Spectrogram Transformers (arXiv 2401.08415) on an Akka.NET pipeline");
root.Options.Add(CliErrors.Verbose);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(FeaturesCommand.Create());
root.Subcommands.Add(StatsCommand.Create());
root.Subcommands.Add(ShardCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(EmbedCommand.Create());
// Forced collections for the soak (bench/soak): finds use-after-free of native temporaries in a real run.
using var gcPressure = GcPressure.FromEnvironment();
var parse = root.Parse(args);
if (parse.Errors.Count > 0) return CliErrors.ReportParseErrors(parse);
if (CliErrors.EmptyValue(parse) is { } empty)
{
    Console.Error.WriteLine($"error: {empty}: an empty value names nothing (see actortraining {parse.CommandResult.Command.Name} --help)");
    return CliErrors.BadInput;
}
try
{
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    return CliErrors.Report(e, parse.CommandResult.Command.Name, parse.GetValue(CliErrors.Verbose));
}
