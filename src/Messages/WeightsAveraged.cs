namespace ActorTraining.Messages;

/// <summary>
/// The weights of <paramref name="Phase"/>'s epoch ends <paramref name="Averaging"/> were averaged into the checkpoint
/// file <paramref name="Path"/> (SHA-256 <paramref name="Sha256"/>); its evaluation follows. As a command to the
/// supervisor (from its own averaging work) it is persisted as it is, once.
/// </summary>
public sealed record WeightsAveraged(int Phase, WeightAveraging Averaging, string Path, string Sha256) : ISupervisorEvent;
