namespace ActorTraining.Compute.Distributed;

/// <summary>
/// The ring between ranks cannot carry on: a neighbour closed its connection, went silent past the timeout, or sent
/// something that is not the next expected frame. The step in flight fails; nothing is left half-reduced in use.
/// </summary>
public sealed class RingBrokenException(string message, Exception? inner = null) : Exception(message, inner);
