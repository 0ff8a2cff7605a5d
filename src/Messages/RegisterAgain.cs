namespace ActorTraining.Messages;

/// <summary>Run coordinator → every node: register your ranks again with the state they hold now (a supervisor started over and needs to know).</summary>
public sealed record RegisterAgain : IControlMessage;
