namespace ActorTraining.Messages;

/// <summary>A fault came after <paramref name="Restarts"/> restarts in a row: the run stops with this cause (a new `train` resumes it).</summary>
public sealed record RestartBudgetSpent(string Component, string Cause, int Restarts) : ISupervisorEvent;
