namespace ActorTraining.Messages;

/// <summary>
/// Node → run coordinator (through the singleton proxy): the node's ranks are ready to train the run whose identity
/// is <paramref name="RunFingerprint"/> (configuration and data; a node of another run is refused). Sent again, with
/// the states the ranks hold, whenever the coordinator changed (its node was lost).
/// </summary>
public sealed record RegisterRanks(string Node, string RunFingerprint, IReadOnlyList<RankRegistration> Ranks) : IControlMessage;
