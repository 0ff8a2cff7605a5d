using ActorTraining.Compute.Checkpoints;

namespace ActorTraining.Actors;

/// <summary>What to tell the user when training stops on an error.</summary>
public static class TrainingFailure
{
    const int DiskFull = 28;    // ENOSPC
    const int DiskQuota = 122;  // EDQUOT

    public static string Describe(Exception cause) => cause switch
    {
        IOException io when (io.HResult & 0xFFFF) is DiskFull or DiskQuota || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) =>
            $"the disk is full while writing a checkpoint ({io.Message}); the last committed checkpoint is intact — free space and rerun the same command to resume",
        CheckpointCorruptException corrupt => $"checkpoint failed its integrity check: {corrupt.Message}",
        _ => cause.Message,
    };
}
