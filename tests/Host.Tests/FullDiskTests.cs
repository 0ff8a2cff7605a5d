using System.Diagnostics;
using System.Text.RegularExpressions;
using ActorTraining.Compute.Checkpoints;
using Xunit.Abstractions;

namespace ActorTraining.Host.Tests;

/// <summary>
/// The checkpoint folder on a 5 MiB tmpfs (room for one ~3 MiB checkpoint, not two): the second checkpoint hits a
/// full disk. `train` must stop with a clear error, the committed checkpoint must survive intact, and once there is
/// space the same command resumes and finishes. Mounting needs root (as CI and the dev machines run).
/// </summary>
[Trait("Category", "Slow")] // a disk filled up: not in ./test --fast
public sealed class FullDiskTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("full-disk-").FullName;
    string Checkpoints => Path.Combine(_dir, "run", "checkpoints");
    bool _mounted;

    static void Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err} (this test mounts a tmpfs and needs root)");
    }

    [Fact]
    public void AFullDiskWhileCheckpointingStopsClearlyKeepsTheCommittedCheckpointAndResumesOnceThereIsSpace()
    {
        Directory.CreateDirectory(Checkpoints);
        Sh("mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", Checkpoints);
        _mounted = true;
        string[] train = ["train", "--run-dir", Path.Combine(_dir, "run"), "--set", "data.synthetic.train-clips-per-class=6",
            "--set", "data.synthetic.eval-clips-per-class=1", "--set", "training.batch-size=4", "--set", "training.checkpoint-every-steps=3",
            "--set", "curriculum=[{factor=1, epochs=1}]", "--set", "compare=[]"];

        var full = Cli.RunIn(_dir, TimeSpan.FromMinutes(2), train);
        output.WriteLine(full.Stdout + full.Stderr);
        Assert.NotEqual(0, full.ExitCode);
        Assert.Contains("disk is full", full.Stderr);

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", Path.Combine(_dir, "run"));
        output.WriteLine(status.Stdout);
        var committed = Regex.Matches(status.Stdout, @"checkpoint phase .*?: (\S+\.ckpt) sha256").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(committed);
        foreach (var path in committed) CheckpointFile.ReadHeader(path); // verifies its SHA-256: intact
        Assert.Empty(Directory.GetFiles(Checkpoints, "*.tmp"));

        Sh("mount", "-o", "remount,size=64m", Checkpoints);
        var resumed = Cli.RunIn(_dir, TimeSpan.FromMinutes(2), train);
        output.WriteLine(resumed.Stdout + resumed.Stderr);
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
    }

    public void Dispose()
    {
        if (_mounted) try { Sh("umount", Checkpoints); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
