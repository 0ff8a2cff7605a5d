using System.Diagnostics;
using ActorTraining.Actors;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// `srun -n 3 actortraining train --config … --run-dir … --postgres …` on a real Slurm (<see cref="SlurmServer"/>): the
/// tasks find their addresses, seeds and node count in Slurm's variables and no cluster option is given. The experiment
/// is the cluster tests' (pool C = 2 then C = 1, 3 epochs each).
/// </summary>
[Trait("Category", "Slow")] // a real Slurm and a three-node cluster: not in ./test --fast
[Collection(ClusterCollection.Name)]
public sealed class SlurmTrainingTests(ITestOutputHelper output, PostgresServer postgres, SlurmServer slurm)
    : IClassFixture<PostgresServer>, IClassFixture<SlurmServer>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("srun-").FullName;
    static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    string RunDir => Path.Combine(_dir, "run");
    string TraceDir => Path.Combine(_dir, "trace");
    string TaskLog(int task) => Path.Combine(_dir, $"task-{task}.log");
    string Logs => string.Join("\n", Enumerable.Range(0, 3).Select(t => $"--- task {t}\n{(File.Exists(TaskLog(t)) ? File.ReadAllText(TaskLog(t)) : "")}"));

    /// <summary>srun, started in the background: three tasks, one output file each, a task's death not killing the others.</summary>
    Process Srun()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, ClusterTests.Experiment);
        var psi = new ProcessStartInfo("/usr/bin/srun") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-n", "3", "--kill-on-bad-exit=0", $"--output={_dir}/task-%t.log", "dotnet", Path.Combine(AppContext.BaseDirectory, "actortraining.dll"),
                     "train", "--config", config, "--run-dir", RunDir, "--postgres", postgres.ConnectionString, "--torch-threads", "1",
                     "--port-base", LoopbackPorts.FreeBase(3).ToString() })
            psi.ArgumentList.Add(a);
        foreach (var (key, value) in slurm.Environment) psi.Environment[key] = value;
        psi.Environment[StepTrace.Variable] = TraceDir;
        return Process.Start(psi)!;
    }

    (int ExitCode, string Output) Wait(Process srun)
    {
        var stdout = srun.StandardOutput.ReadToEndAsync();
        var stderr = srun.StandardError.ReadToEndAsync();
        if (!srun.WaitForExit(RunLimit))
        {
            srun.Kill(entireProcessTree: true);
            throw new TimeoutException($"srun did not finish in {RunLimit}:\n{Logs}");
        }
        return (srun.ExitCode, stdout.Result + stderr.Result);
    }

    int[] GenerationSizes() => JournalEvents(RunDir, "GenerationFormed", postgres.ConnectionString).Select(e => e.GetProperty("Members").GetArrayLength()).ToArray();

    [Fact]
    public void ThreeTasksOfSrunFormTheClusterFromSlurmsVariablesAndTrainToTheEnd()
    {
        using var srun = Srun();
        var (code, said) = Wait(srun);
        output.WriteLine(said + Logs);
        Assert.True(code == 0, said + Logs);
        for (int t = 0; t < 3; t++)
        {
            var log = File.ReadAllText(TaskLog(t));
            Assert.Contains($"slurm: job ", log);
            Assert.Contains($", task {t} of 3 (local {t} on localhost)", log);
            Assert.Contains("training starts with 3 node(s)", log);
        }
        Assert.All(GenerationSizes(), members => Assert.Equal(3, members));
        Assert.NotNull(FinalCheckpoint(RunDir, phase: 1, epoch: 2, postgres.ConnectionString));
    }

    [Fact]
    public void ATaskKilledWithSigkillLeavesTheOtherTwoToFinishTheRun()
    {
        using var srun = Srun();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!StepTrace.Read(TraceDir).Any(l => l is { Phase: 0, Step: >= 20 }))
        {
            Assert.False(srun.HasExited, $"srun ended before training got going:\n{Logs}");
            Assert.True(DateTime.UtcNow < deadline, $"no training step 20 within 3 minutes:\n{Logs}");
            Thread.Sleep(200);
        }
        // scontrol listpids: PID JOBID STEPID LOCALID GLOBALID of every process of the step; task 2's dotnet is the one we mean
        var victim = slurm.Run("/usr/bin/scontrol", "listpids").Split('\n').Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length == 5 && f[4] == "2")
            .Select(f => int.Parse(f[0])).Single(pid => Process.GetProcessById(pid).ProcessName == "dotnet");
        Process.GetProcessById(victim).Kill();
        output.WriteLine($"killed task 2 (pid {victim})");
        var (_, said) = Wait(srun);
        output.WriteLine(said + Logs);
        Assert.Contains("task 2", said); // srun reports the task it lost
        Assert.NotNull(FinalCheckpoint(RunDir, phase: 1, epoch: 2, postgres.ConnectionString));
        for (int t = 0; t < 2; t++) Assert.Contains("Run: ", File.ReadAllText(TaskLog(t)));
        Assert.Contains(2, GenerationSizes());
    }

    /// <summary>
    /// sbatch --requeue of a script that runs srun -n 3; once checkpoints are committed, scontrol requeue: Slurm stops every
    /// task and starts the script again, whose tasks read the same variables and resume the run from its last commit.
    /// </summary>
    [Fact]
    public void ARequeuedJobsTasksResumeTheRunFromItsLastCommit()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, ClusterTests.Experiment);
        var script = Path.Combine(_dir, "job.sh");
        File.WriteAllText(script, $$"""
            #!/bin/bash
            exec srun -n 3 --kill-on-bad-exit=0 --output={{_dir}}/task-%t.r${SLURM_RESTART_COUNT:-0}.log \
              dotnet {{Path.Combine(AppContext.BaseDirectory, "actortraining.dll")}} train --config {{config}} --run-dir {{RunDir}} \
              --postgres '{{postgres.ConnectionString}}' --torch-threads 1 --port-base {{LoopbackPorts.FreeBase(3)}} --verbose
            """);
        var environment = new Dictionary<string, string>(slurm.Environment) { [StepTrace.Variable] = TraceDir };
        var submitted = Cli.RunProgram("/usr/bin/sbatch", environment, _dir, TimeSpan.FromMinutes(1), "--parsable", "--requeue", "-n", "3", "-o", $"{_dir}/job.out", script);
        Assert.True(submitted.ExitCode == 0, submitted.Stdout + submitted.Stderr);
        var job = submitted.Stdout.Trim().Split(';')[0];
        string Job() => slurm.Run("/usr/bin/scontrol", "show", "job", job);
        string Attempts() => string.Join("\n", Directory.GetFiles(_dir, "task-*.log").Order().Select(f => $"--- {Path.GetFileName(f)}\n{File.ReadAllText(f)}"));
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (Commits(RunDir, postgres.ConnectionString).Count < 3)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no 3 commits within 3 minutes:\n{Job()}\n{Attempts()}");
                Thread.Sleep(500);
            }
            var before = Commits(RunDir, postgres.ConnectionString).Count;
            var requeued = DateTime.UtcNow;
            output.WriteLine($"requeue after {before} commits: {slurm.Run("/usr/bin/scontrol", "requeue", job)}");
            deadline = DateTime.UtcNow + RunLimit;
            while (!Job().Contains("JobState=COMPLETED") && !Job().Contains("JobState=FAILED"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the requeued job did not end within {RunLimit}:\n{Job()}\n{Attempts()}");
                Thread.Sleep(1000);
            }
            output.WriteLine($"ended {(DateTime.UtcNow - requeued).TotalSeconds:F0} s after the requeue:\n{Job()}\n{Attempts()}");
            Assert.Contains("JobState=COMPLETED", Job());
            Assert.Contains("Restarts=1", Job());
            Assert.NotNull(FinalCheckpoint(RunDir, phase: 1, epoch: 2, postgres.ConnectionString));
            // the second attempt went on from what the first committed: one fresh start in the journal, the first attempt's
            var starts = JournalEvents(RunDir, "GenerationFormed", postgres.ConnectionString)
                .Select(e => $"{e.GetProperty("StartedFrom").GetString()}@{e.GetProperty("Phase").GetInt32()}/{e.GetProperty("Step").GetInt64()}").ToList();
            output.WriteLine($"generations: {string.Join(" ", starts)}");
            Assert.Single(starts, s => s.StartsWith("fresh"));
            for (int t = 0; t < 3; t++) Assert.Contains("Run: ", File.ReadAllText(Path.Combine(_dir, $"task-{t}.r1.log")));
        }
        finally
        {
            slurm.Run("/usr/bin/scancel", job);
        }
    }
}
