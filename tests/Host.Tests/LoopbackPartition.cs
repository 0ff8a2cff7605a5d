namespace ActorTraining.Host.Tests;

/// <summary>
/// A network partition between processes on one machine, with real packets dropped. Loopback connections all leave from
/// 127.0.0.1, so each node runs under its own group id (<see cref="Wrap"/>: setpriv, still root) and an nftables
/// postrouting rule gives the packets of that group's sockets the node's own address (127.0.0.x) as source; the
/// PostgreSQL server admits 127.0.0.0/8. <see cref="Cut"/> drops both directions between two sets of addresses in
/// prerouting at priority −300, before conntrack undoes the translation, so a cut link says nothing (no reset, no
/// refusal); <see cref="Heal"/> deletes the drop chain. Dispose deletes the table: no rule outlives the test.
/// </summary>
public sealed class LoopbackPartition : IDisposable
{
    const string Nft = "/usr/sbin/nft";
    readonly string _table = $"actortraining_partition_{Environment.ProcessId}_{Guid.NewGuid():N}"[..48];
    readonly IReadOnlyList<(string Address, int Group)> _nodes;
    bool _cut;

    public LoopbackPartition(IReadOnlyList<(string Address, int Group)> nodes)
    {
        _nodes = nodes;
        var rules = string.Join("\n", nodes.Select(n => $"    meta skgid {n.Group} ip saddr 127.0.0.1 snat to {n.Address}"));
        Apply($$"""
            table ip {{_table}} {
              chain sources {
                type nat hook postrouting priority 100;
            {{rules}}
              }
            }
            """);
    }

    /// <summary>The command that runs <paramref name="command"/> as node <paramref name="node"/> (its group id).</summary>
    public string Wrap(int node, string command) => $"setpriv --regid {_nodes[node].Group} --clear-groups -- {command}";

    /// <summary>From now on, nothing passes between an address of <paramref name="side"/> and one of <paramref name="others"/>.</summary>
    public void Cut(IReadOnlyList<string> side, IReadOnlyList<string> others)
    {
        var pairs = side.SelectMany(a => others.SelectMany(b => new[] { $"    ip saddr {a} ip daddr {b} drop", $"    ip saddr {b} ip daddr {a} drop" }));
        Apply($$"""
            table ip {{_table}} {
              chain cut {
                type filter hook prerouting priority -300;
            {{string.Join("\n", pairs)}}
              }
            }
            """);
        _cut = true;
    }

    /// <summary>Everything passes again.</summary>
    public void Heal()
    {
        if (!_cut) return;
        Run("delete", "chain", "ip", _table, "cut");
        _cut = false;
    }

    /// <summary>Whether any rule of this partition is still in the kernel.</summary>
    public bool Present => Cli.RunProgram(Nft, new Dictionary<string, string>(), "/", TimeSpan.FromSeconds(30), "list", "tables").Stdout.Contains(_table);

    void Apply(string ruleset)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, ruleset + "\n");
            Run("-f", file);
        }
        finally { File.Delete(file); }
    }

    static void Run(params string[] args)
    {
        var r = Cli.RunProgram(Nft, new Dictionary<string, string>(), "/", TimeSpan.FromSeconds(30), args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"nft {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr.Trim()}");
    }

    public void Dispose()
    {
        var r = Cli.RunProgram(Nft, new Dictionary<string, string>(), "/", TimeSpan.FromSeconds(30), "delete", "table", "ip", _table);
        if (r.ExitCode != 0 && Present) throw new InvalidOperationException($"could not delete nftables table {_table}: {r.Stderr.Trim()}");
    }
}
