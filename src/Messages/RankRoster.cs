namespace ActorTraining.Messages;

/// <summary>Coordinator → supervisor: every rank that can take part now, with the state each said it holds when it registered.</summary>
public sealed record RankRoster(IReadOnlyList<RankRegistration> Ranks);

/// <summary>Supervisor → coordinator, as it stops: the journal's database cannot be reached (<paramref name="Cause"/>); start me again later.</summary>
public sealed record JournalOutage(string Cause);

/// <summary>Supervisor → coordinator: the journal was read; it is there.</summary>
public sealed record JournalAvailable;
