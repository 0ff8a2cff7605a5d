namespace ActorTraining.Messages;

/// <summary>
/// Phase supervisor → rank: train <paramref name="Phase"/> of run <paramref name="RunIndex"/> as member
/// <paramref name="Index"/> of generation <paramref name="Generation"/>, whose ordered <paramref name="Members"/> form the
/// ring (member i sends to member i+1) and split each global batch in that order, from <paramref name="Start"/>.
/// Member 0 writes the checkpoints. Whatever the rank was doing before stops.
/// </summary>
public sealed record JoinGeneration(int RunIndex, int Generation, PhasePlan Phase, IReadOnlyList<RankAddress> Members, int Index,
    GenerationStart Start) : IControlMessage;
