using Akka.Actor;
using ActorTraining.Compute.Runtime;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// An experiment run in one actor system without the cluster: the <see cref="RunCoordinator"/> as a plain actor and one
/// node's <see cref="NodeRanks"/> registering with it directly — the same actors the cluster wires, the singleton left out.
/// </summary>
public static class LocalExperiment
{
    public static (IActorRef Coordinator, IActorRef Ranks) Start(ActorSystem system, IReadOnlyList<RunSettings> runs, string runId,
        IActorRef listener, int ranks = 1, string name = "local")
    {
        var coordinator = system.ActorOf(RunCoordinator.Props(runs, runId, 1, RecoverySettings.Of(runs[0].Config.Training)), $"{name}-coordinator");
        var byRank = Enumerable.Range(0, ranks).Select(_ => (IReadOnlyList<RunSettings>)runs.Select(r => r with { Device = RankDevice.Cpu }).ToList()).ToList();
        var node = system.ActorOf(NodeRanks.Props($"{name}-node", byRank, "127.0.0.1",
            System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), runs[0].ConfigHash, coordinator, listener), $"{name}-ranks");
        return (coordinator, node);
    }
}
