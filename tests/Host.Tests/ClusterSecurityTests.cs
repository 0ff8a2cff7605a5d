using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ActorTraining.Compute.Distributed;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A cluster run lets in only its own, as real processes on 127.0.0.1: while three nodes train, a node of another run
/// (its own secret) tries to join, and every rank's data-plane port gets random bytes, a truncated hello, a hello with
/// absurd fields, another run's key and a replayed handshake. All are refused, each with a log line naming the caller's
/// address; the run finishes with the weights of one node alone; every port the nodes open is bound to the --node
/// address; and neither the database password nor the run secret appears in any output, log, metrics file or journal row.
/// </summary>
[Trait("Category", "Slow")] // multi-process cluster: not in ./test --fast
[Collection(ClusterCollection.Name)]
public sealed class ClusterSecurityTests(ITestOutputHelper output, PostgresServer postgres, ClusterTests.Reference reference)
    : IClassFixture<PostgresServer>, IClassFixture<ClusterTests.Reference>, IDisposable
{
    const string Password = "pw-Never-2b-Logged-7f3a";

    readonly string _dir = Directory.CreateTempSubdirectory("cluster-security-").FullName;

    [Fact]
    public void StrangersAreRefusedNamedAndTheRunFinishesUndisturbed()
    {
        var connection = postgres.ConnectionString + $";Password={Password}";
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, ClusterTests.Experiment);
        using var nodes = new ClusterNodes(_dir, config, connection, nodes: 3, minNodes: 3);
        nodes.StartAll();
        nodes.WaitForTrace(t => t.Any(l => l is { Phase: 0, Step: >= 5 }), TimeSpan.FromMinutes(3));

        // every port the nodes listen on is on the --node address
        var listening = Listening(nodes);
        output.WriteLine("listening: " + string.Join(", ", listening));
        Assert.True(listening.Count >= 6, "each node listens for remoting and one rank"); // 3 nodes × (remoting + a rank)
        // Akka's remoting binds a dual-stack socket: 127.0.0.1 as the IPv4-mapped [::ffff:127.0.0.1], still that address only
        Assert.All(listening, l => Assert.Matches(@"^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+$", l));

        // a node of another run (its own run directory and secret) asks to join
        using var foreign = StartForeignNode(nodes);
        // garbage and strangers at every rank's data-plane port
        var secret = RunSecret.Load(Path.Combine(nodes.RunDir, RunSecret.FileName));
        var ranks = Enumerable.Range(0, nodes.Count).SelectMany(i => Regex.Matches(nodes.Output(i), @"takes ring links and state requests at (127\.0\.0\.1:\d+)")
            .Select(m => IPEndPoint.Parse(m.Groups[1].Value))).Distinct().ToList();
        Assert.Equal(3, ranks.Count);
        foreach (var rank in ranks) Strangers(rank, secret.RingKey);

        Assert.All(nodes.WaitAll(TimeSpan.FromMinutes(6)), code => Assert.True(code == 0, nodes.Outputs()));
        foreign.Kill(entireProcessTree: true);
        var logs = string.Join("\n", Enumerable.Range(0, nodes.Count).Select(i => nodes.Output(i)));
        var refusals = logs.Split('\n').Where(l => l.Contains("refused")).Select(l => l.Trim()).ToList();
        output.WriteLine(string.Join("\n", refusals.Take(20)));
        Assert.Contains(refusals, l => l.Contains("does not hold this run's secret"));                     // the foreign node (TLS)
        Assert.Contains(refusals, l => l.Contains("not a data-plane hello"));                               // garbage, absurd hello
        Assert.Contains(refusals, l => l.Contains("closed before a complete hello"));                       // truncated hello
        Assert.Contains(refusals, l => l.Contains("did not finish the authentication"));                    // another run's key
        Assert.Contains(refusals, l => l.Contains("failed the run's authentication"));                      // a replayed handshake
        Assert.All(refusals.Where(l => l.Contains("data-plane")), l => Assert.Matches(@"from 127\.0\.0\.1:\d+", l));

        var drift = RelativeDistance(reference.Weights(ClusterTests.Experiment), Weights(FinalCheckpoint(nodes.RunDir, 1, 2, connection)));
        output.WriteLine($"final weights against one node alone: ‖Δw‖/‖w‖ = {drift:E2}");
        Assert.True(drift <= 1e-5, $"the run drifted {drift:E2}");

        AssertNothingTells(nodes, connection, secret);
    }

    /// <summary>Random bytes, a truncated hello, a hello with absurd fields, another run's key, and a replay of a real handshake.</summary>
    static void Strangers(IPEndPoint rank, byte[] key)
    {
        using (var s = Connect(rank)) s.Send(RandomNumberGenerator.GetBytes(4096));
        using (var s = Connect(rank))
        {
            var hello = new byte[RankEndpoint.Hello.Bytes];
            new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 3, 1, 1).Write(hello);
            s.Send(hello.AsSpan(0, 11));
            s.Shutdown(SocketShutdown.Send);
            Thread.Sleep(100);
        }
        using (var s = Connect(rank))
        {
            var absurd = new byte[RankEndpoint.Hello.Bytes + 16];
            new RankEndpoint.Hello(RankEndpoint.Purpose.State, 3, 1, 1).Write(absurd);
            BitConverter.TryWriteBytes(absurd.AsSpan(12), int.MaxValue); // a world of 2^31 ranks
            s.Send(absurd);
            Thread.Sleep(100);
        }
        Assert.Throws<RingBrokenException>(() => RankEndpoint.Connect(rank, new RankEndpoint.Hello(RankEndpoint.Purpose.State, 3, 1, 1),
            RandomNumberGenerator.GetBytes(32), DateTime.UtcNow.AddSeconds(10), "a rank"));
        // a handshake recorded with the run's key (an eavesdropper's copy), replayed on a new connection
        byte[] opening = new byte[RankEndpoint.Hello.Bytes + 16], proof;
        using (var s = Connect(rank))
        {
            new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 3, 1, 0).Write(opening); // generation 0: long gone, dropped once admitted
            RandomNumberGenerator.Fill(opening.AsSpan(RankEndpoint.Hello.Bytes));
            s.Send(opening);
            var answer = new byte[48];
            RingLinks.ReadExactly(s, answer);
            proof = HMACSHA256.HashData(key, (byte[])[(byte)'C', .. opening, .. answer.AsSpan(0, 16)]);
            s.Send(proof);
        }
        using (var s = Connect(rank))
        {
            s.Send(opening);
            RingLinks.ReadExactly(s, new byte[48]);
            s.Send(proof);
            Thread.Sleep(100);
        }
    }

    static Socket Connect(IPEndPoint to)
    {
        var s = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        s.Connect(to);
        return s;
    }

    /// <summary>`train` of another run (its own run directory, so its own secret) pointed at this cluster's seed nodes.</summary>
    Process StartForeignNode(ClusterNodes nodes)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "foreign")).FullName;
        var config = Path.Combine(dir, "experiment.hocon");
        File.WriteAllText(config, ClusterTests.Experiment);
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "actortraining.dll"), "train", "--config", config, "--run-dir", Path.Combine(dir, "run"),
                     "--postgres", postgres.ConnectionString, "--node", $"127.0.0.1:{LoopbackPorts.Free()}", "--management-port", LoopbackPorts.Free().ToString(), "--seed-nodes", $"{nodes.Node(0)},{nodes.Node(1)}" })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    /// <summary>host:port of every TCP socket the nodes' processes listen on.</summary>
    static List<string> Listening(ClusterNodes nodes)
    {
        var pids = Enumerable.Range(0, nodes.Count).Select(nodes.Pid).ToHashSet();
        var ss = Process.Start(new ProcessStartInfo("ss", "-ltnpH") { RedirectStandardOutput = true })!;
        var lines = ss.StandardOutput.ReadToEnd().Split('\n');
        ss.WaitForExit();
        return lines.Where(l => Regex.Matches(l, @"pid=(\d+)").Any(m => pids.Contains(int.Parse(m.Groups[1].Value))))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).ToList();
    }

    /// <summary>Neither the database password nor the secret (its file's bytes, its key) in what the nodes wrote, `status`, metrics or the journal.</summary>
    void AssertNothingTells(ClusterNodes nodes, string connection, RunSecret secret)
    {
        var pfx = File.ReadAllBytes(Path.Combine(nodes.RunDir, RunSecret.FileName));
        var secrets = new[] { Password, Convert.ToBase64String(pfx)[..24], Convert.ToHexString(secret.RingKey)[..24], Convert.ToBase64String(secret.RingKey)[..24] };
        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", nodes.RunDir, "--postgres", connection, "--verbose");
        Assert.True(status.ExitCode == 0, status.Stdout + status.Stderr);
        var texts = new Dictionary<string, string>
        {
            ["node outputs"] = string.Join("\n", Enumerable.Range(0, nodes.Count).Select(i => nodes.Output(i))),
            ["status"] = status.Stdout + status.Stderr,
            ["metrics"] = string.Join("\n", Directory.GetFiles(nodes.RunDir, "metrics.*").Select(File.ReadAllText)),
            ["journal"] = string.Join("\n", new[] { "RunStarted", "PhaseStarted", "CheckpointCommitted", "EpochCompleted", "GenerationFormed", "RunCompleted" }
                .SelectMany(t => JournalEvents(nodes.RunDir, t, connection)).Select(e => e.GetRawText())),
            ["experiment.json"] = File.ReadAllText(Path.Combine(nodes.RunDir, "experiment.json")),
        };
        foreach (var (where, text) in texts)
            foreach (var s in secrets)
                Assert.False(text.Contains(s, StringComparison.Ordinal), $"{where} contains a secret ({s[..4]}…)");
        output.WriteLine($"searched {texts.Sum(t => t.Value.Length)} characters of outputs, status, metrics and journal: no password, no secret");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
