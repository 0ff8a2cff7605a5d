namespace ActorTraining.Messages;

/// <summary>
/// A phase supervisor that started again (its journal's database was away, or its node was lost) → the members of the
/// generation the journal names last, all found holding it: go on as you are, answer to me from now on, and send again
/// the checkpoint commits I have not acknowledged.
/// </summary>
public sealed record AdoptGeneration(int RunIndex, int Generation) : IControlMessage;
