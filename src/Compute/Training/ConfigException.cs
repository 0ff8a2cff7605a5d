namespace ActorTraining.Compute.Training;

/// <summary>An experiment setting that is missing, unknown or out of range. <see cref="Key"/> is the full HOCON
/// path (e.g. <c>training.batch-size</c>, <c>curriculum[1].factor</c>) so the user knows what to fix.</summary>
public sealed class ConfigException(string key, string reason) : Exception($"{key}: {reason}")
{
    public string Key { get; } = key;
    public string Reason { get; } = reason;
}
