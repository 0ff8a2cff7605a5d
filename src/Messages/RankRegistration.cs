using Akka.Actor;

namespace ActorTraining.Messages;

/// <summary>One rank of a node: its actor, where it is, and the training state it holds (null: none).</summary>
public sealed record RankRegistration(IActorRef Rank, RankAddress Address, LiveState? Live);
