using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// <c>--discovery</c>: how a node finds its cluster in place of <c>--seed-nodes</c>. Akka.Management's cluster bootstrap
/// asks the contact points' management endpoints whether a cluster exists and joins it; when none does, the contact
/// point with the lowest address forms it once all the expected ones answer.
/// </summary>
public abstract record ClusterDiscovery
{
    /// <summary>The pod label value the Kubernetes form looks for when none is given.</summary>
    public const string DefaultApp = "actortraining";

    /// <summary><c>config:HOST:PORT,…</c> — the management endpoints of the nodes, listed alike on every node.</summary>
    public sealed record Config(IReadOnlyList<(string Host, int Port)> ContactPoints) : ClusterDiscovery;

    /// <summary><c>kubernetes[:APP]</c> — the pods of this pod's namespace labelled <c>app=APP</c>, from the Kubernetes API,
    /// at their container port named <c>management</c>.</summary>
    public sealed record Kubernetes(string App) : ClusterDiscovery;

    public static ClusterDiscovery Parse(string value)
    {
        var colon = value.IndexOf(':');
        var (method, rest) = colon < 0 ? (value, "") : (value[..colon], value[(colon + 1)..]);
        switch (method)
        {
            case "config":
                var points = rest.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(p => NodeOptions.Address(p, "--discovery")).ToList();
                if (points.Count == 0) throw new ConfigException("--discovery", $"'{value}' lists no contact point; write config:HOST:PORT,HOST:PORT,… (the nodes' management endpoints)");
                if (points.Any(p => p.Port == 0)) throw new ConfigException("--discovery", $"'{value}': a contact point needs its fixed management port, not 0");
                return new Config(points);
            case "kubernetes":
                var app = rest.Length == 0 ? DefaultApp : rest;
                if (!app.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || app.Length > 63)
                    throw new ConfigException("--discovery", $"'{app}' is not a Kubernetes label value (letters, digits, '-', '_', '.'; at most 63)");
                return new Kubernetes(app);
            default:
                throw new ConfigException("--discovery", $"'{value}' is neither config:HOST:PORT,… nor kubernetes[:APP]");
        }
    }

    /// <summary>How many contact points must answer before the lowest forms a new cluster: the nodes training waits for,
    /// at most the contact points listed.</summary>
    public int RequiredContactPoints(int minNodes) => this is Config c ? Math.Min(minNodes, c.ContactPoints.Count) : minNodes;

    public sealed override string ToString() => this switch
    {
        Config c => $"config:{string.Join(",", c.ContactPoints.Select(p => $"{p.Host}:{p.Port}"))}",
        Kubernetes k => $"kubernetes:{k.App}",
        _ => GetType().Name,
    };
}
