using System.CommandLine;
using ActorTraining.Actors;
using ActorTraining.Compute.Reporting;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using ActorTraining.Host.Configuration;
using ActorTraining.Host.Running;
using Akka.Actor;
using TorchSharp;

namespace ActorTraining.Host.Commands;

/// <summary>
/// `actortraining train [--config F] [--run-dir D] [--set key=value ...]`: trains the experiment's curriculum (and
/// its comparison runs) through the actor pipeline; rerunning on the same run directory resumes. With no arguments:
/// the built-in default (synthetic corpus, pool 4 → 2 → 1 against the baseline).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Experiment HOCON file (keys as configs/default.hocon); default: the built-in experiment" };
        var runDir = new Option<string>("--run-dir") { Description = "Run directory (journal, checkpoints, corpus); rerun on it to resume", DefaultValueFactory = _ => Path.Combine("runs", "default") };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set training.batch-size=8 (repeatable)" };
        var postgres = new Option<string?>("--postgres") { Description = "Keep the journal in PostgreSQL (Npgsql connection string) instead of SQLite files in the run directory" };
        var threads = new Option<int?>("--torch-threads") { Description = "libtorch intra-op threads (fix it for bit-reproducible runs)" };
        var command = new Command("train", "Train an AST coarse-to-fine through the actor pipeline (resumes an interrupted run)")
        {
            config, runDir, set, postgres, threads,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var experiment = ExperimentConfigLoader.Load(parse.GetValue(config), ExperimentConfigLoader.ParseOverrides(parse.GetValue(set) ?? []));
            if (parse.GetValue(threads) is { } n)
            {
                if (n is < 1 or > 1024) throw new ConfigException("--torch-threads", $"must be between 1 and 1024, got {n}");
                torch.set_num_threads(n);
            }
            var ranks = RankDevice.Resolve(experiment.Training.DeviceNames, RankDevice.Available());
            if (parse.GetValue(threads) is null && ranks.Count(d => !d.IsCuda) > 1)
                torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / ranks.Count(d => !d.IsCuda))); // CPU ranks split the cores
            if (parse.GetValue(postgres) is { } pg) PersistenceConfig.CheckPostgres(pg);
            var dir = Path.GetFullPath(parse.GetValue(runDir)!);
            Directory.CreateDirectory(dir);
            return await Train(experiment, dir, parse.GetValue(postgres), parse.GetValue(CliErrors.Verbose));
        });
        return command;
    }

    static async Task<int> Train(ExperimentConfig experiment, string runDir, string? postgres, bool verbose)
    {
        var runId = RunIdentity.ReadOrCreate(runDir);
        if (postgres is null) PersistenceConfig.CheckSqlite(runDir);
        using var system = ActorSystemFactory.Create(runDir, postgres, verbose);
        try
        {
            await RecordedRun.RefuseOtherConfiguration(system, runId, runDir, postgres, experiment.Hash());
            return await Train(experiment, runDir, runId, system);
        }
        finally
        {
            await system.Terminate();
        }
    }

    static async Task<int> Train(ExperimentConfig experiment, string runDir, string runId, ActorSystem system)
    {
        using var data = TrainingData.Load(experiment, runDir);
        Console.WriteLine($"run directory {runDir}, config hash {experiment.Hash()[..12]}, data {data.Fingerprint[..12]}");
        Console.WriteLine($"data: {data.Train.Count} training clips, {data.Eval.Count} evaluation clips, {data.Labels.Count} classes");
        var experimentFile = Path.Combine(runDir, "experiment.json");
        if (!File.Exists(experimentFile)) File.WriteAllText(experimentFile, experiment.ToJson(indented: true));

        var results = await new TrainingRun(experiment, data, runDir, runId, experiment.Training.ResolvedNumWorkers).RunAll(system);
        Console.WriteLine();
        var jsonl = Path.Combine(runDir, RunLog.JsonlName);
        var log = File.Exists(jsonl) ? RunLog.Read(jsonl) : [];
        foreach (var r in results)
        {
            var label = ExperimentConfig.Label(experiment.Runs()[r.RunIndex]);
            var records = log.Where(x => x.Run == label).ToList();
            if (records.Count == 0) continue;
            Console.Write(PhaseSummary.FormatTable(label, records, r.Clips.Skipped, r.Clips.Padded.Count));
            if (r.State.LastCheckpoint() is { } checkpoint) Console.WriteLine($"final checkpoint: {checkpoint.Path}");
            if (r.State.Restarts.Count > 0)
                Console.WriteLine($"restarts after faults: {r.State.Restarts.Count} ({string.Join("; ", r.State.Restarts.Select(x => $"{x.Component}: {x.Cause}"))})");
            Console.WriteLine();
        }
        if (results.Count > 1 && results.All(r => r.Failure is null))
        {
            var series = RunSeries.LoadAll(runDir);
            Console.Write(RunComparison.FormatTable(series));
            var plots = MetricPlots.Write(series, Path.Combine(runDir, "comparison"));
            Console.WriteLine($"plots: {plots.VersusFlops}, {plots.VersusWallTime}");
        }
        else if (results.Count == 1 && results[0].Failure is null)
        {
            var plots = MetricPlots.Write(RunSeries.LoadAll(runDir), Path.Combine(runDir, "metric"));
            Console.WriteLine($"plots: {plots.VersusFlops}, {plots.VersusWallTime}");
        }
        var failed = results.FirstOrDefault(r => r.Failure is not null);
        if (failed is not null)
        {
            Console.Error.WriteLine($"error: {failed.Failure}");
            return 1;
        }
        return 0;
    }
}
