using System.CommandLine;
using System.Globalization;
using ActorTraining.Compute.Data;
using ActorTraining.Host.Running;
using ActorTraining.Messages;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining evaluate --checkpoint K --data F`: metrics of a checkpoint on an AST datafile.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file written by train", Required = true };
        var data = new Option<string>("--data") { Description = "AST datafile JSON ({\"data\":[{\"wav\":..., \"labels\":...}]})", Required = true };
        var command = new Command("evaluate", "Evaluate a checkpoint on a datafile (accuracy, mAP, mAUC, d′)") { checkpoint, data };
        command.SetAction(async (parse, cancel) =>
        {
            var path = parse.GetValue(checkpoint)!;
            var labels = CheckpointJob.LabelsOf(path);
            var datafile = parse.GetValue(data)!;
            using var entries = CorpusIndex.OfDatafile(datafile, indexDirectory: null); // a temporary index: the datafile's folder may be read-only
            if (entries.FirstUnknownLabel(labels) is (var i, _, var label))
                throw new DatasetException(datafile, $"data[{i}] has label '{label}', which the checkpoint's model does not know ({labels.Count} classes)");
            var done = await CheckpointJob.Run<EvaluationDone>(path, entries, ScoreOutput.Metrics, parse.GetValue(CliErrors.Verbose));
            Console.WriteLine($"{entries.Count} clips from {Path.GetFullPath(datafile)}");
            foreach (var (name, value) in done.Metrics.OrderBy(m => m.Key))
                Console.WriteLine($"{name,-10} {value.ToString("F4", CultureInfo.InvariantCulture)}");
            return 0;
        });
        return command;
    }
}
