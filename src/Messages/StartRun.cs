namespace ActorTraining.Messages;

/// <summary>Host → supervisor: run (or resume) the curriculum of the configuration with hash <paramref name="ConfigHash"/>.</summary>
public sealed record StartRun(string ConfigHash, IReadOnlyList<PhasePlan> Phases) : IControlMessage;
