using System.Diagnostics;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A private Slurm on 127.0.0.1 (Debian's slurmctld, slurmd and munge, installed by scripts/ensure-machine): a munge key
/// and munged on a socket in a temporary folder, one node named localhost with 8 CPUs on this 2-core machine
/// (config_overrides) in a partition that oversubscribes, free ports, no cgroups; step credentials live 10 s, which is
/// also how long a requeued job waits before it starts again (default 120). Commands run with
/// <see cref="Environment"/> (SLURM_CONF). Every daemon is killed and the folder deleted on Dispose.
/// </summary>
public sealed class SlurmServer : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("slurm-").FullName;
    readonly Process _munged;
    readonly ServerProcess _controller, _node;

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = Path.Combine(_dir, "slurm.conf") };

    public SlurmServer()
    {
        foreach (var sub in new[] { "munge", "state", "spool" }) Directory.CreateDirectory(Path.Combine(_dir, sub));
        string key = Path.Combine(_dir, "munge", "munge.key"), socket = Path.Combine(_dir, "munge", "socket");
        Run("/usr/sbin/mungekey", "--create", $"--keyfile={key}");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(Path.Combine(_dir, "munge"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var psi = new ProcessStartInfo("/usr/sbin/munged") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--foreground", "--force", $"--key-file={key}", $"--socket={socket}", $"--pid-file={_dir}/munge/pid",
                     $"--log-file={_dir}/munge/log", $"--seed-file={_dir}/munge/seed" }) psi.ArgumentList.Add(a);
        _munged = Process.Start(psi)!;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !File.Exists(socket); Thread.Sleep(100))
            if (_munged.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException($"munged did not start: {_munged.StandardError.ReadToEnd()}");

        int controllerPort = LoopbackPorts.Free(), nodePort = LoopbackPorts.Free();
        var conf = Path.Combine(_dir, "slurm.conf");
        File.WriteAllText(conf, $"""
            ClusterName=actortraining
            SlurmctldHost=localhost(127.0.0.1)
            SlurmctldPort={controllerPort}
            SlurmdPort={nodePort}
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            AuthInfo=socket={socket},cred_expire=10
            CredType=cred/munge
            StateSaveLocation={_dir}/state
            SlurmdSpoolDir={_dir}/spool
            SlurmctldPidFile={_dir}/slurmctld.pid
            SlurmdPidFile={_dir}/slurmd.pid
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            MpiDefault=none
            SwitchType=switch/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            SchedulerType=sched/builtin
            ReturnToService=2
            SlurmdParameters=config_overrides
            JobCompType=jobcomp/none
            AccountingStorageType=accounting_storage/none
            JobAcctGatherType=jobacct_gather/none
            KillOnBadExit=0
            NodeName=localhost NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
            PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8

            """);
        _controller = new ServerProcess("slurmctld", _dir, "/usr/sbin/slurmctld", "-D", "-f", conf);
        _node = new ServerProcess("slurmd", _dir, "/usr/sbin/slurmd", "-D", "-f", conf, "-N", "localhost");
        try
        {
            _controller.Start(controllerPort);
            _node.Start(nodePort);
            for (var deadline = DateTime.UtcNow.AddSeconds(30); !Run("/usr/bin/sinfo", "-h", "-o", "%T").Contains("idle"); Thread.Sleep(200))
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"the Slurm node did not become idle: {Run("/usr/bin/sinfo")}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A Slurm command's output (bounded to a minute).</summary>
    public string Run(string executable, params string[] args)
    {
        var r = Cli.RunProgram(executable, Environment, _dir, TimeSpan.FromMinutes(1), args);
        return r.Stdout + r.Stderr;
    }

    public void Dispose()
    {
        _node?.Dispose();
        _controller?.Dispose();
        if (!_munged.HasExited) _munged.Kill(entireProcessTree: true);
        _munged.WaitForExit(10_000);
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
