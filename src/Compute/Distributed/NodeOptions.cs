using System.Net;
using System.Net.Sockets;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// Where this node is and how it finds the cluster: <c>--node</c>, <c>--seed-nodes</c> or <c>--discovery</c>,
/// <c>--min-nodes</c>, and the port of its management endpoint (<c>--management-port</c>; null: none).
/// </summary>
public sealed record NodeOptions(string Host, int Port, IReadOnlyList<(string Host, int Port)> SeedNodes, int MinNodes,
    ClusterDiscovery? Discovery = null, int? ManagementPort = null)
{
    /// <summary>A node alone, on loopback with a port the system picks: the default `train`.</summary>
    public static readonly NodeOptions Alone = new("127.0.0.1", 0, [], 1);

    /// <summary>The management port's default distance from the node's port: 4053 → 8558, Akka.NET's customary pair.</summary>
    public const int ManagementPortOffset = 4505;

    public bool IsCluster => SeedNodes.Count > 0 || Discovery is not null;

    /// <summary>Whether this node may form a new cluster when it finds none (a first seed node, or the lowest contact point).</summary>
    public bool MayFormCluster { get; init; } = true;

    /// <summary>
    /// This node joining again after the cluster removed it: only through the others — itself off the seed list (when
    /// others are on it), and no new cluster from discovery — so a node cut off from the rest never starts a second
    /// cluster, with a second coordinator writing the run's journal.
    /// </summary>
    public NodeOptions Rejoining() => this with
    {
        SeedNodes = SeedNodes.Where(s => s != (Host, Port)).ToList() is { Count: > 0 } others ? others : SeedNodes,
        MayFormCluster = false,
    };

    /// <summary>
    /// This node's place: alone on loopback by default; with --seed-nodes or --discovery, a node of a cluster (which
    /// needs --node and --postgres) with its management endpoint at --management-port, by default the node's port + 4505.
    /// A node alone has one only when --management-port asks for it.
    /// </summary>
    public static NodeOptions Parse(string? node, string? seeds, int? minNodes, string? postgres, string? discovery = null, int? managementPort = null)
    {
        if (minNodes is < 1 or > 1000) throw new ConfigException("--min-nodes", $"must be between 1 and 1000, got {minNodes}");
        if (managementPort is < 1 or > 65535) throw new ConfigException("--management-port", $"must be between 1 and 65535, got {managementPort}");
        if (seeds is not null && discovery is not null)
            throw new ConfigException("--discovery", "finds the cluster in place of --seed-nodes; give one of them");
        if (seeds is null && discovery is null)
        {
            if (minNodes > 1) throw new ConfigException("--min-nodes", $"waits for {minNodes} nodes, but without --seed-nodes or --discovery this node forms a cluster of its own");
            var alone = node is null ? Alone : Alone with { Host = Address(node, "--node").Host, Port = Address(node, "--node").Port };
            return alone with { ManagementPort = managementPort };
        }
        var option = seeds is not null ? "--seed-nodes" : "--discovery";
        if (node is null) throw new ConfigException(option, "needs --node HOST:PORT, the address the other nodes reach this one at");
        if (postgres is null)
            throw new ConfigException(option, "a cluster keeps its journal in PostgreSQL (--postgres): the SQLite journal in the run directory takes one writer on one machine, and the run's coordinator moves between nodes");
        var self = Address(node, "--node");
        if (self.Port == 0) throw new ConfigException("--node", "a node of a cluster needs a fixed port (the others find it there), not 0");
        var management = managementPort ?? self.Port + ManagementPortOffset;
        if (management > 65535) throw new ConfigException("--management-port", $"unset, it is --node's port {self.Port} + {ManagementPortOffset}, past 65535; give one");
        if (management == self.Port) throw new ConfigException("--management-port", $"{management} is --node's port too");
        if (seeds is not null)
        {
            var list = seeds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => Address(s, "--seed-nodes")).ToList();
            if (list.Count == 0) throw new ConfigException("--seed-nodes", "lists no node");
            return new NodeOptions(self.Host, self.Port, list, minNodes ?? 1, null, management);
        }
        return new NodeOptions(self.Host, self.Port, [], minNodes ?? 1, ClusterDiscovery.Parse(discovery!), management);
    }

    /// <summary>HOST:PORT with HOST an IP address or a name this machine resolves; a clear error naming the option otherwise.</summary>
    internal static (string Host, int Port) Address(string value, string option)
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
