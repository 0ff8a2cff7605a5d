namespace ActorTraining.Compute.Checkpoints;

/// <summary>A checkpoint file that is truncated, modified or not a checkpoint at all.</summary>
public sealed class CheckpointCorruptException : Exception
{
    public CheckpointCorruptException(string filePath, string reason, Exception? inner = null)
        : base($"{filePath}: {reason}", inner)
    {
        FilePath = filePath;
        Reason = reason;
    }

    public string FilePath { get; }
    public string Reason { get; }
}
