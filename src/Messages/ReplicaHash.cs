namespace ActorTraining.Messages;

/// <summary>
/// Rank → phase supervisor, at each checkpoint of a generation of several: member <paramref name="Index"/>'s parameter
/// hash after <paramref name="Step"/>. Every replica must have the same; one that differs is a fault (a ring that does
/// not keep them bit-identical is a bug), never a silently diverging model.
/// </summary>
public sealed record ReplicaHash(int RunIndex, int Generation, int Index, long Step, bool EpochEnd, string Hash) : IControlMessage;
