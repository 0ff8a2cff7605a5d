using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ActorTraining.Actors;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A cluster run as real processes on 127.0.0.1: node i is `actortraining train --node 127.0.0.1:Pi --seed-nodes P0,P1
/// --management-port Mi` (the same command on every node, ports picked free), or with <c>discovery</c>
/// `--discovery config:M0,M1,…` in place of the seed nodes; the journal in the test's PostgreSQL server, the run
/// directory shared. Every node writes its step trace (<see cref="StepTrace"/>) and its output to files in the test
/// directory; a node can be killed with SIGKILL and started again with the same command. Every wait is bounded.
/// </summary>
public sealed class ClusterNodes : IDisposable
{
    readonly string _dir;
    readonly string[] _args;
    readonly int[] _ports;
    readonly int[] _management;
    readonly IReadOnlyList<string> _hosts;
    readonly LoopbackPartition? _partition;
    readonly Process?[] _nodes;
    readonly int[] _starts;

    public string RunDir { get; }
    public string TraceDir { get; }

    /// <param name="hosts">Each node's address (default 127.0.0.1 for all).</param>
    /// <param name="seeds">The nodes listed as seeds, the first forming the cluster (default nodes 0 and 1).</param>
    /// <param name="partition">Runs node i under its group (<see cref="LoopbackPartition.Wrap"/>), so its packets can be dropped.</param>
    public ClusterNodes(string dir, string config, string postgres, int nodes, int minNodes, bool discovery = false,
        IReadOnlyList<string>? hosts = null, LoopbackPartition? partition = null, IReadOnlyList<int>? seeds = null)
    {
        _hosts = hosts ?? Enumerable.Repeat("127.0.0.1", nodes).ToList();
        _partition = partition;
        _dir = dir;
        RunDir = Path.Combine(dir, "run");
        TraceDir = Path.Combine(dir, "trace");
        _ports = Enumerable.Range(0, nodes).Select(_ => LoopbackPorts.Free()).ToArray();
        _management = Enumerable.Range(0, nodes).Select(_ => LoopbackPorts.Free()).ToArray();
        _nodes = new Process?[nodes];
        _starts = new int[nodes];
        var seedList = string.Join(",", (seeds ?? Enumerable.Range(0, Math.Min(2, nodes)).ToList()).Select(Node));
        string[] cluster = discovery
            ? ["--discovery", "config:" + string.Join(",", Enumerable.Range(0, nodes).Select(i => $"{_hosts[i]}:{_management[i]}"))]
            : ["--seed-nodes", seedList];
        _args = ["train", "--config", config, "--run-dir", RunDir, "--torch-threads", "1", "--postgres", postgres, .. cluster,
            "--min-nodes", minNodes.ToString(), "--verbose"];
    }

    public int Count => _nodes.Length;

    public string Node(int i) => $"{_hosts[i]}:{_ports[i]}";

    public string Host(int i) => _hosts[i];

    /// <summary>Node <paramref name="i"/>'s management endpoint.</summary>
    public Uri Management(int i) => new($"http://{_hosts[i]}:{_management[i]}/");

    /// <summary>Starts node <paramref name="i"/> (again, after a kill: the same command).</summary>
    public void Start(int i)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "actortraining.dll");
        var log = LogOf(i, ++_starts[i]);
        var psi = new ProcessStartInfo("bash") { WorkingDirectory = _dir, RedirectStandardOutput = false, RedirectStandardError = false };
        // through a shell so the output goes straight to a file (a killed child leaves everything it wrote)
        psi.ArgumentList.Add("-c");
        var command = $"dotnet {Quote(dll)} {string.Join(' ', _args.Concat(["--node", Node(i), "--management-port", _management[i].ToString()]).Select(Quote))}";
        psi.ArgumentList.Add($"exec {(_partition is null ? command : _partition.Wrap(i, command))} > {Quote(log)} 2>&1");
        psi.Environment[StepTrace.Variable] = TraceDir;
        _nodes[i] = Process.Start(psi)!;
    }

    public void StartAll()
    {
        for (int i = 0; i < Count; i++) Start(i);
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to the cluster.</summary>
    public void Kill(int i)
    {
        var p = _nodes[i] ?? throw new InvalidOperationException($"node {i} is not running");
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
    }

    public bool HasExited(int i) => _nodes[i]?.HasExited ?? true;

    /// <summary>The process id of node <paramref name="i"/>'s current start.</summary>
    public int Pid(int i) => _nodes[i]?.Id ?? -1;

    /// <summary>Waits for every running node to exit; their exit codes, or a failure naming the ones still running.</summary>
    public int[] WaitAll(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        foreach (var p in _nodes.OfType<Process>())
        {
            var left = deadline - DateTime.UtcNow;
            if (left < TimeSpan.Zero || !p.WaitForExit(left))
                Assert.Fail($"the cluster did not finish within {limit.TotalMinutes:F0} min; outputs:\n{Outputs()}");
        }
        return _nodes.Select(p => p?.ExitCode ?? -1).ToArray();
    }

    string LogOf(int i, int start) => Path.Combine(_dir, $"node{i}-{start}.log");

    public string Output(int i, int start = 0) => File.Exists(LogOf(i, start == 0 ? _starts[i] : start)) ? File.ReadAllText(LogOf(i, start == 0 ? _starts[i] : start)) : "";

    public string Outputs() => string.Join("\n", Enumerable.Range(0, Count).SelectMany(i => Enumerable.Range(1, _starts[i])
        .Select(s => $"--- node {i} (start {s}) ---\n{Tail(Output(i, s), 60)}")));

    static string Tail(string text, int lines) => string.Join("\n", text.Split('\n').Where(l => !l.StartsWith("[pool")).TakeLast(lines));

    /// <summary>Every step every node took so far.</summary>
    public IReadOnlyList<StepTrace.Line> Trace() => StepTrace.Read(TraceDir);

    /// <summary>Polls the trace until <paramref name="when"/> holds (bounded); the trace then.</summary>
    public IReadOnlyList<StepTrace.Line> WaitForTrace(Func<IReadOnlyList<StepTrace.Line>, bool> when, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            var trace = Trace();
            if (when(trace)) return trace;
            if (_nodes.OfType<Process>().All(p => p.HasExited)) break;
            Thread.Sleep(100);
        }
        Assert.Fail($"the awaited training steps did not come within {limit.TotalSeconds:F0} s; outputs:\n{Outputs()}");
        return [];
    }

    static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    public void Dispose()
    {
        foreach (var p in _nodes.OfType<Process>())
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.Dispose();
        }
    }
}
