using Akka.Actor;
using Akka.Cluster;

namespace ActorTraining.Actors;

public static class ClusterMembers
{
    /// <summary>host:port of the cluster's members that are up or joining (none outside a cluster).</summary>
    public static IReadOnlySet<string> Up(ActorSystem system) =>
        system is not ExtendedActorSystem { Provider: ClusterActorRefProvider } ? new HashSet<string>()
            : Cluster.Get(system).State.Members
                .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
                .Select(m => $"{m.Address.Host}:{m.Address.Port}").ToHashSet();
}
