namespace ActorTraining.Messages;

/// <summary>Host → supervisor: run (or resume) the curriculum of the configuration with hash <paramref name="ConfigHash"/>.
/// <paramref name="Schedule"/>: null = each phase trains its planned epochs. <paramref name="Averaging"/>: null = no weight averaging.
/// <paramref name="Model"/>: the model trained, as people read it (e.g. "HTS-AT (embed 96, depths 2/2/6/2, …)").</summary>
public sealed record StartRun(string ConfigHash, IReadOnlyList<PhasePlan> Phases, AdaptiveSchedule? Schedule = null, WeightAveraging? Averaging = null,
    string? Model = null) : IControlMessage;
