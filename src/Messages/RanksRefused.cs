namespace ActorTraining.Messages;

/// <summary>Coordinator → node: this node's ranks cannot take part (another configuration or data); the node stops with this reason.</summary>
public sealed record RanksRefused(string Reason) : IControlMessage;
