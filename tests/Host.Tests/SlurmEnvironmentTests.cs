using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Host.Tests;

/// <summary>`info` and `train` as tasks of an srun step: the variables slurmstepd sets, given to real child processes.</summary>
public sealed class SlurmEnvironmentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("slurm-env-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    static Dictionary<string, string> Task(string nodes, string node, int tasks, int procId, int localId) => new()
    {
        ["SLURM_JOB_ID"] = "77", ["SLURM_STEP_NODELIST"] = nodes, ["SLURM_STEP_NUM_TASKS"] = tasks.ToString(), ["SLURM_NTASKS"] = tasks.ToString(),
        ["SLURM_PROCID"] = procId.ToString(), ["SLURM_LOCALID"] = localId.ToString(), ["SLURMD_NODENAME"] = node, ["CUDA_VISIBLE_DEVICES"] = "1",
    };

    [Fact]
    public void InfoPrintsWhatItReadFromSlurm()
    {
        var r = Cli.RunWith(Task("127.0.0.[1-2]", "127.0.0.2", 4, 3, 1), _dir, TimeSpan.FromMinutes(1), "info");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("slurm: job 77, task 3 of 4 (local 1 on 127.0.0.2), step nodes 127.0.0.1,127.0.0.2; " +
            "--node 127.0.0.2:4054, --seed-nodes 127.0.0.1:4053,127.0.0.2:4053, --min-nodes 4, management port 8559; GPUs given: 1", r.Stdout);
        var outside = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "info");
        Assert.Contains("slurm: not a task of srun", outside.Stdout);
        var broken = Cli.RunWith(Task("127.0.0.[1-2", "127.0.0.2", 4, 3, 1), _dir, TimeSpan.FromMinutes(1), "info");
        Assert.Contains("slurm: SLURM_STEP_NODELIST: '127.0.0.[1-2' has unbalanced brackets", broken.Stdout);
    }

    [Fact]
    public void AMinNodesAboveTheStepsTasksIsOneLine()
    {
        var r = Cli.RunWith(Task("127.0.0.1", "127.0.0.1", 2, 0, 0), _dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "run"), "--min-nodes", "3");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal("error: --min-nodes: waits for 3 nodes, but the Slurm step has 2 tasks (SLURM_STEP_NUM_TASKS / SLURM_NTASKS): training would never start", r.Stderr.Trim());
    }

    [Fact]
    public void APortBaseWhosePortIsTakenIsOneLineNamingIt()
    {
        int port = LoopbackPorts.Free();
        var holder = new TcpListener(IPAddress.Loopback, port + 1);
        holder.Start();
        try
        {
            var r = Cli.RunWith(Task("127.0.0.1", "127.0.0.1", 2, 1, 1), _dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "run"),
                "--port-base", port.ToString(), "--postgres", "Host=127.0.0.1;Port=1;Username=nobody");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains($"error: --port-base: port {port + 1} (--port-base {port} + SLURM_LOCALID 1) is in use on 127.0.0.1; choose another --port-base for every task", r.Stderr);
        }
        finally { holder.Stop(); }
    }
}
