namespace ActorTraining.Messages;

/// <summary>Coordinator → node: registered. The sender is the coordinator to watch: a new one needs registering again.</summary>
public sealed record RanksRegistered : IControlMessage;
