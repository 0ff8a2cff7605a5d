namespace ActorTraining.Messages;

/// <summary>Coordinator → every node: what happened in run <paramref name="RunIndex"/> of the experiment (progress, phases, epochs, generations, restarts).</summary>
public sealed record RunEvent(int RunIndex, IControlMessage Event) : IControlMessage;
