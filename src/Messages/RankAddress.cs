namespace ActorTraining.Messages;

/// <summary>
/// Where a rank is: its node (the Akka address host:port), its index among the node's devices, the device, and its
/// data-plane endpoint (host:port of its <c>RankEndpoint</c>, where ring links and state requests go).
/// </summary>
public sealed record RankAddress(string Node, int LocalRank, string Device, string Endpoint)
{
    public override string ToString() => $"{Node}/{LocalRank} ({Device})";
}
