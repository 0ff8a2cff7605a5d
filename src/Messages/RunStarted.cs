namespace ActorTraining.Messages;

/// <summary>
/// The run began with the configuration whose canonical hash is <paramref name="ConfigHash"/>, and this curriculum
/// (a handful of small records, so status can show the plan without the config file), its phases' lengths fixed
/// (<paramref name="Schedule"/> null, as every journal before the adaptive scheduler) or decided as it trains, and the
/// weight averaging that ends it (<paramref name="Averaging"/>; null, as every journal before it: none), and the model it
/// trains as people read it (<paramref name="Model"/>; null in journals written before it was recorded).
/// </summary>
public sealed record RunStarted(string ConfigHash, IReadOnlyList<PhasePlan> Phases, AdaptiveSchedule? Schedule = null,
    WeightAveraging? Averaging = null, string? Model = null) : ISupervisorEvent;
