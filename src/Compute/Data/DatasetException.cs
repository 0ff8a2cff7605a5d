namespace ActorTraining.Compute.Data;

/// <summary>A corpus description (datafile, label csv, folder) that cannot be used; Message names the file and what is wrong.</summary>
public sealed class DatasetException(string filePath, string reason)
    : Exception($"{filePath}: {reason}")
{
    public string FilePath { get; } = filePath;
    public string Reason { get; } = reason;
}
