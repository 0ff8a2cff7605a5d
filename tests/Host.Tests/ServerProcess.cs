using System.Diagnostics;

namespace ActorTraining.Host.Tests;

/// <summary>A test server's process: started in its folder, output to a log there, stopped with SIGKILL (as a crash or a
/// pulled cable would), and waited for until it answers TCP on its port.</summary>
public sealed class ServerProcess(string name, string workingDirectory, string executable, params string[] args) : IDisposable
{
    Process? _process;

    public string Log => Path.Combine(workingDirectory, $"{name}.log");

    public void Start(int port)
    {
        var psi = new ProcessStartInfo(executable) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        var log = new StreamWriter(Log, append: true) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!Answers(port))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"{name} did not start on 127.0.0.1:{port}: {(File.Exists(Log) ? File.ReadAllText(Log) : "")}");
            Thread.Sleep(100);
        }
    }

    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
    }

    static bool Answers(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    public void Dispose() => Stop();
}
