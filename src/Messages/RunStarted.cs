namespace ActorTraining.Messages;

/// <summary>
/// The run began with the configuration whose canonical hash is <paramref name="ConfigHash"/>, and this curriculum
/// (a handful of small records, so status can show the plan without the config file).
/// </summary>
public sealed record RunStarted(string ConfigHash, IReadOnlyList<PhasePlan> Phases) : ISupervisorEvent;
