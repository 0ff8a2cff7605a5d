namespace ActorTraining.Messages;

/// <summary>
/// Journal: generation <paramref name="Generation"/> of the run's ranks was formed — its members in ring order, and
/// where it starts: phase, epoch, data position, step, and from what (<see cref="GenerationStart.Kind"/>: live, checkpoint,
/// transfer, fresh). Every training position of an epoch is trained by exactly one generation: the one whose start
/// precedes it and whose successor starts after it.
/// </summary>
public sealed record GenerationFormed(int Generation, IReadOnlyList<RankAddress> Members, int Phase, int Epoch, long Position,
    long Step, string StartedFrom) : ISupervisorEvent;
