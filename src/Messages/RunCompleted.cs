namespace ActorTraining.Messages;

/// <summary>Every phase of the curriculum finished.</summary>
public sealed record RunCompleted(string FinalCheckpoint, string Sha256) : ISupervisorEvent;
