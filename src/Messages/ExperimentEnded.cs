namespace ActorTraining.Messages;

/// <summary>Coordinator → every node: the experiment's runs ended (the last one failed, or all completed); the nodes may go.</summary>
public sealed record ExperimentEnded(IReadOnlyList<RunOutcome> Runs) : IControlMessage;
