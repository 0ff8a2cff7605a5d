namespace ActorTraining.Messages;

/// <summary>Rank → phase supervisor: member <paramref name="Index"/> of generation <paramref name="Generation"/> stopped, holding <paramref name="State"/>.</summary>
public sealed record RankStopped(int RunIndex, int Generation, int Index, RankStopReason Reason, LiveState? State, string Detail) : IControlMessage;
