namespace ActorTraining.Messages;

/// <summary>
/// Phase supervisor → the ranks of a generation: a member is gone; close the ring now (a step waiting in the
/// all-reduce fails at once) and report the state held. <paramref name="KeepState"/> false: the state is not to be
/// trusted (a fault), drop it.
/// </summary>
public sealed record AbortGeneration(int RunIndex, int Generation, bool KeepState) : IControlMessage;
