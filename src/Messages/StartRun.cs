namespace ActorTraining.Messages;

/// <summary>Host → supervisor: run (or resume) the curriculum of the configuration with hash <paramref name="ConfigHash"/>.
/// <paramref name="Schedule"/>: null = each phase trains its planned epochs. <paramref name="Averaging"/>: null = no weight averaging.</summary>
public sealed record StartRun(string ConfigHash, IReadOnlyList<PhasePlan> Phases, AdaptiveSchedule? Schedule = null, WeightAveraging? Averaging = null)
    : IControlMessage;
