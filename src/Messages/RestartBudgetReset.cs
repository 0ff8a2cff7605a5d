namespace ActorTraining.Messages;

/// <summary>A new `train` process took over a run whose restart count was not zero: the budget starts over.</summary>
public sealed record RestartBudgetReset : ISupervisorEvent;
