using System.Net;
using System.Net.Sockets;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Distributed;

/// <summary>Where this node is and how it finds the cluster: <c>--node</c>, <c>--seed-nodes</c>, <c>--min-nodes</c>.</summary>
public sealed record NodeOptions(string Host, int Port, IReadOnlyList<(string Host, int Port)> SeedNodes, int MinNodes)
{
    /// <summary>A node alone, on loopback with a port the system picks: the default `train`.</summary>
    public static readonly NodeOptions Alone = new("127.0.0.1", 0, [], 1);

    public bool IsCluster => SeedNodes.Count > 0;

    /// <summary>This node's place: alone on loopback by default; with --seed-nodes, a node of a cluster (which needs --node and --postgres).</summary>
    public static NodeOptions Parse(string? node, string? seeds, int? minNodes, string? postgres)
    {
        if (minNodes is < 1 or > 1000) throw new ConfigException("--min-nodes", $"must be between 1 and 1000, got {minNodes}");
        if (seeds is null)
        {
            if (minNodes > 1) throw new ConfigException("--min-nodes", $"waits for {minNodes} nodes, but without --seed-nodes this node forms a cluster of its own");
            return node is null ? NodeOptions.Alone : NodeOptions.Alone with { Host = Address(node, "--node").Host, Port = Address(node, "--node").Port };
        }
        if (node is null) throw new ConfigException("--seed-nodes", "needs --node HOST:PORT, the address the other nodes reach this one at");
        if (postgres is null)
            throw new ConfigException("--seed-nodes", "a cluster keeps its journal in PostgreSQL (--postgres): the SQLite journal in the run directory takes one writer on one machine, and the run's coordinator moves between nodes");
        var self = Address(node, "--node");
        if (self.Port == 0) throw new ConfigException("--node", "a node of a cluster needs a fixed port (the others find it there), not 0");
        var list = seeds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => Address(s, "--seed-nodes")).ToList();
        if (list.Count == 0) throw new ConfigException("--seed-nodes", "lists no node");
        return new NodeOptions(self.Host, self.Port, list, minNodes ?? 1);
    }

    /// <summary>HOST:PORT with HOST an IP address or a name this machine resolves; a clear error naming the option otherwise.</summary>
    static (string Host, int Port) Address(string value, string option)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new ConfigException(option, $"'{value}' is not HOST:PORT (for example 127.0.0.1:4053)");
        var host = value[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out _)) return (host, port);
        try
        {
            var address = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new ConfigException(option, $"'{host}' has no IPv4 address");
            return (address.ToString(), port);
        }
        catch (SocketException e) { throw new ConfigException(option, $"'{host}' cannot be resolved: {e.Message}"); }
    }
}
