namespace ActorTraining.Actors;

/// <summary>The run's journal store cannot be reached or opened (bad connection string, server down, no such database).</summary>
public sealed class JournalUnavailableException(string message, Exception inner) : Exception(message, inner);
