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
}
