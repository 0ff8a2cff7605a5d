namespace ActorTraining.Messages;

/// <summary>
/// A small control message (phase orders, checkpoint commits, metrics, progress). Small enough to cross nodes:
/// weights travel as a checkpoint path + SHA-256, never inline.
/// </summary>
public interface IControlMessage;
