using System.CommandLine;
using ActorTraining.Actors;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Reporting;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using ActorTraining.Host.Configuration;
using ActorTraining.Host.Running;
using ActorTraining.Compute.Data;
using ActorTraining.Messages;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TorchSharp;

namespace ActorTraining.Host.Commands;

/// <summary>
/// `actortraining train [--config F] [--run-dir D] [--set key=value ...] [--postgres CS] [--node H:P --seed-nodes H:P,… --min-nodes N]`:
/// trains the experiment's curriculum (and its comparison runs); rerunning on the same run directory resumes. With no
/// arguments: the built-in default (synthetic corpus, pool 4 → 2 → 1 against the baseline) on this machine alone.
/// Every node of a cluster runs the same command with its own --node.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Experiment HOCON file (keys as configs/default.hocon); default: the built-in experiment" };
        var runDir = new Option<string>("--run-dir") { Description = "Run directory (journal, checkpoints, corpus); rerun on it to resume; in a cluster, storage every node sees", DefaultValueFactory = _ => Path.Combine("runs", "default") };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set training.batch-size=8 (repeatable)" };
        var postgres = new Option<string?>("--postgres") { Description = "Keep the journal in PostgreSQL (Npgsql connection string) instead of SQLite files in the run directory; required for a cluster" };
        var threads = new Option<int?>("--torch-threads") { Description = "libtorch intra-op threads (fix it for bit-reproducible runs)" };
        var node = new Option<string?>("--node") { Description = "HOST:PORT this node binds and the others reach it at (Akka remoting; the ranks' data links bind to HOST too)" };
        var seeds = new Option<string?>("--seed-nodes") { Description = "HOST:PORT,… of the nodes a cluster forms around (the same list on every node)" };
        var minNodes = new Option<int?>("--min-nodes") { Description = "Nodes that must be up before training starts (default 1)" };
        var portBase = new Option<int>("--port-base")
        {
            Description = $"Under srun: each task listens on this port + SLURM_LOCALID, and the first task of each of the step's first three nodes is a seed (default {SlurmStep.DefaultPortBase})",
            DefaultValueFactory = _ => SlurmStep.DefaultPortBase,
        };
        var discovery = new Option<string?>("--discovery")
        {
            Description = "Find the cluster through Akka.Management's cluster bootstrap instead of --seed-nodes: config:HOST:PORT,… (the nodes' management endpoints, the same list on every node) or kubernetes[:APP] (the pods labelled app=APP, default actortraining, at their port named management)",
        };
        var managementPort = new Option<int?>("--management-port")
        {
            Description = $"Port of this node's management endpoint (HTTP on the --node host: /alive, /ready, /cluster/members); default for a node of a cluster: its port + {NodeOptions.ManagementPortOffset} (4053 → 8558); a node alone has one only when given",
        };
        var secretFile = new Option<string?>("--secret-file") { Description = $"The run's secret (a file `train` writes: certificate and key); every node of a cluster needs the same one (default: {RunSecret.FileName} in the run directory, written by the first node)" };
        var command = new Command("train", "Train an AST coarse-to-fine through the actor pipeline (resumes an interrupted run), alone or as a node of a cluster")
        {
            config, runDir, set, postgres, threads, node, seeds, minNodes, portBase, discovery, managementPort, secretFile,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var experiment = ExperimentConfigLoader.Load(parse.GetValue(config), ExperimentConfigLoader.ParseOverrides(parse.GetValue(set) ?? []));
            var slurm = SlurmStep.OfThisProcess();
            var (nodeOption, seedOption, minOption) = slurm?.Options(parse.GetValue(node), parse.GetValue(seeds), parse.GetValue(minNodes), parse.GetValue(portBase),
                    parse.GetValue(discovery), parse.GetValue(managementPort))
                ?? (parse.GetValue(node), parse.GetValue(seeds), parse.GetValue(minNodes));
            var cluster = NodeOptions.Parse(nodeOption, seedOption, minOption, parse.GetValue(postgres), parse.GetValue(discovery), parse.GetValue(managementPort));
            if (slurm is not null)
            {
                Console.WriteLine(slurm.Describe(parse.GetValue(portBase)));
                if (cluster.IsCluster && parse.GetValue(node) is null) slurm.RequirePortFree(parse.GetValue(portBase), parse.GetValue(managementPort));
            }
            if (parse.GetValue(threads) is { } n)
            {
                if (n is < 1 or > 1024) throw new ConfigException("--torch-threads", $"must be between 1 and 1024, got {n}");
                torch.set_num_threads(n);
            }
            // training.devices as given; unset, the GPUs Slurm gave this task, else the CPU
            var deviceNames = experiment.Training.Devices is { Count: > 0 } ? experiment.Training.DeviceNames : slurm?.Devices() ?? experiment.Training.DeviceNames;
            var ranks = RankDevice.Resolve(deviceNames, RankDevice.Available());
            if (parse.GetValue(threads) is null && ranks.Count(d => !d.IsCuda) > 1)
                torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / ranks.Count(d => !d.IsCuda))); // CPU ranks split the cores
            if (parse.GetValue(postgres) is { } pg) PersistenceConfig.CheckPostgres(pg);
            var dir = Path.GetFullPath(parse.GetValue(runDir)!);
            Directory.CreateDirectory(dir);
            // under srun, a run directory the nodes do not share ends the run in one line instead of a cluster that never forms
            var sharedDirectory = slurm is not null && cluster.IsCluster ? SlurmRunDirectory.Watch(slurm, dir, SlurmRunDirectory.Limit) : Task.FromResult<string?>(null);
            return await Train(experiment, ranks, dir, parse.GetValue(postgres), cluster, parse.GetValue(secretFile), sharedDirectory, parse.GetValue(CliErrors.Verbose));
        });
        return command;
    }

    static async Task<int> Train(ExperimentConfig experiment, IReadOnlyList<RankDevice> devices, string runDir, string? postgres, NodeOptions node,
        string? secretFile, Task<string?> sharedDirectory, bool verbose)
    {
        var runId = RunIdentity.ReadOrCreate(runDir);
        if (postgres is null) PersistenceConfig.CheckSqlite(runDir);
        // a fresh run directory has no journal to check against
        if (postgres is not null || File.Exists(Path.Combine(runDir, PersistenceConfig.JournalFile)))
            await using (var reader = await LocalActorSystem.Start("journal-check", verbose, akka => akka.WithRunJournal(runDir, postgres)))
                experiment = await RecordedRun.RefuseOtherConfiguration(reader.System, runId, runDir, postgres, experiment);
        using var secret = secretFile is not null ? RunSecret.Load(Path.GetFullPath(secretFile)) : RunSecret.LoadOrCreate(Path.Combine(runDir, RunSecret.FileName));
        using var data = TrainingData.Load(experiment, runDir);
        Console.WriteLine($"run directory {runDir}, config hash {experiment.Hash()[..12]}, data {data.Fingerprint[..12]}");
        Console.WriteLine($"data: {data.Train.Count} training clips, {data.Eval.Count} evaluation clips, {data.Labels.Count} classes");
        Console.WriteLine(node.IsCluster
            ? $"node {node.Host}:{node.Port} of a cluster {FoundThrough(node)}, training starts with {node.MinNodes} node(s); ranks here: {string.Join(", ", devices)}"
            : $"ranks: {string.Join(", ", devices)}");
        if (node.ManagementPort is { } management)
            Console.WriteLine($"management endpoint http://{node.Host}:{management}/ (alive, ready, cluster/members)");
        WriteOnce(Path.Combine(runDir, "experiment.json"), experiment.ToJson(indented: true));

        var checkpoints = Path.Combine(runDir, "checkpoints");
        var runs = Enumerable.Range(0, experiment.Runs().Count).Select(r => new RunSettings(experiment, r, data.Train, data.Eval, data.Labels,
            checkpoints, experiment.Training.ResolvedNumWorkers, data.Fingerprint)).ToList();
        var runsByRank = devices.Select(d => (IReadOnlyList<RunSettings>)runs.Select(s => s with { Device = d }).ToList()).ToList();
        var clips = new ClipNotes();
        for (int rejoins = 0; ; rejoins++)
        {
            var outcome = new TaskCompletionSource<IControlMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = sharedDirectory.ContinueWith(t => { if (t.Result is { } unshared) outcome.TrySetResult(new RunFailed(unshared)); }, TaskScheduler.Default);
            using var host = ClusterNode.Build(rejoins == 0 ? node : node.Rejoining(), runDir, runId, postgres, secret, verbose, runs, runsByRank, RecoverySettings.Of(experiment.Training),
                system => system.ActorOf(RunMonitor.Props(experiment, outcome, clips), "monitor"));
            await host.StartAsync();
            var system = host.Services.GetRequiredService<ActorSystem>();
            try { await ClusterNode.StartManagement(system, node, rejoins == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(5)); }
            catch (ConfigException e) when (rejoins > 0)
            {
                // the HTTP server of the actor system before does not always let its port go (Ceen.Httpd 0.9.10)
                Console.WriteLine($"warning: {e.Message}: joining again without the management endpoint");
            }
            catch (ConfigException)
            {
                await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
                throw;
            }
            host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => outcome.TrySetResult(
                CoordinatedShutdown.Get(system).ShutdownReason switch
                {
                    // the others took this node for dead (a long pause, a network cut): it is a new node to them now
                    CoordinatedShutdown.ClusterDowningReason when node.IsCluster && rejoins < MaxRejoins => new Removed(),
                    CoordinatedShutdown.ClusterJoinUnsuccessfulReason when rejoins > 0 => new RunFailed(
                        $"could not join the cluster again within {system.Settings.Config.GetTimeSpan("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes").TotalSeconds:F0} s " +
                        "after it removed this node (the other nodes are unreachable from here); the run goes on without it if they are up — rerun the command to join it again"),
                    CoordinatedShutdown.ClusterJoinUnsuccessfulReason => new RunFailed(node.Discovery is { } found
                        ? $"could not find the cluster through --discovery {found}: no cluster to join, and fewer than {found.RequiredContactPoints(node.MinNodes)} contact points answered to form one"
                        : $"could not join the cluster at --seed-nodes {string.Join(",", node.SeedNodes.Select(s => $"{s.Host}:{s.Port}"))}: no seed node answered"),
                    _ => new RunFailed("this node left the cluster before the experiment ended (removed as unreachable, or shut down); rerun the command to rejoin"),
                }));
            using var rejoining = new CancellationTokenSource();
            if (rejoins > 0)
                _ = RejoinWatch.Watch(system, runId, runs.Count, runDir, postgres, rejoining.Token).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully && t.Result == RejoinWatch.End.RunFinished) outcome.TrySetResult(new FinishedWithoutThisNode());
                }, TaskScheduler.Default);
            var end = await outcome.Task;
            rejoining.Cancel();
            await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            if (end is Removed)
            {
                Console.WriteLine($"warning: the cluster removed this node as unreachable; joining it again ({rejoins + 1} of at most {MaxRejoins})");
                continue;
            }
            Console.WriteLine();
            if (end is FinishedWithoutThisNode)
            {
                Console.WriteLine("the run finished while this node was cut off from the cluster; nothing is left for it to do");
                return 0;
            }
            return end switch
            {
                ExperimentEnded ended => Summarise(experiment, runDir, ended, clips),
                RanksRefused refused => Fail(refused.Reason),
                RunFailed failed => Fail(failed.Reason),
                _ => Fail($"unexpected end {end.GetType().Name}"),
            };
        }
    }

    static string FoundThrough(NodeOptions node) => node.Discovery is { } discovery
        ? $"found through --discovery {discovery}"
        : $"around {string.Join(",", node.SeedNodes.Select(s => $"{s.Host}:{s.Port}"))}";

    /// <summary>How often a node the cluster removed (taken for dead) joins it again by itself before it gives up.</summary>
    const int MaxRejoins = 10;

    /// <summary>This node was removed from the cluster while the experiment went on.</summary>
    sealed record Removed : IControlMessage;

    /// <summary>The journal says the experiment finished while this node was trying to join the cluster again.</summary>
    sealed record FinishedWithoutThisNode : IControlMessage;

    static int Fail(string reason)
    {
        Console.Error.WriteLine($"error: {reason}");
        return 1;
    }

    static void WriteOnce(string path, string text)
    {
        if (File.Exists(path)) return;
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, text);
        try { File.Move(temporary, path, overwrite: false); }
        catch (IOException) { File.Delete(temporary); } // another node wrote it first
    }

    static int Summarise(ExperimentConfig experiment, string runDir, ExperimentEnded ended, ClipNotes clips) =>
        RunSummary.Write(runDir, ended.Runs.Select(r => new RunSummary.Ended(experiment.RunLabel(r.RunIndex), r.FinalCheckpoint, r.Restarts, r.Failure)).ToList(), clips)
            is { } failure ? Fail(failure) : 0;
}
