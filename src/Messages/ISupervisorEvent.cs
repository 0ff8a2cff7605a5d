namespace ActorTraining.Messages;

/// <summary>An event the phase supervisor persists in its journal. Small by design: never weights, never data.</summary>
public interface ISupervisorEvent : IControlMessage;
