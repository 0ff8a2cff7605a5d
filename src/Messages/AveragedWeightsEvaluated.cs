namespace ActorTraining.Messages;

/// <summary>The averaged weights (<see cref="WeightsAveraged"/>) of <paramref name="Phase"/> were scored on the evaluation set.</summary>
public sealed record AveragedWeightsEvaluated(int Phase, WeightAveraging Averaging, IReadOnlyDictionary<string, double> Metrics) : ISupervisorEvent;
