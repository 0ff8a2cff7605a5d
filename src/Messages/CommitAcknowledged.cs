namespace ActorTraining.Messages;

/// <summary>Phase supervisor → member 0: the commit of <paramref name="Path"/> is in the journal (or was already): no need to send it again.</summary>
public sealed record CommitAcknowledged(int RunIndex, int Generation, string Path) : IControlMessage;
