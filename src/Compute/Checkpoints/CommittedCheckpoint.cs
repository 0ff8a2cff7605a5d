using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using TorchSharp;

namespace ActorTraining.Compute.Checkpoints;

/// <summary>
/// Loads a checkpoint only if it is the one the journal committed: the file must verify (its own SHA-256) and that
/// hash must equal the committed one — a file replaced after its commit is refused, not trusted.
/// </summary>
public static class CommittedCheckpoint
{
    public static TrainingCheckpointInfo Load(string path, string? expectedSha256, AudioModel model, AdamOptimizer? optimizer)
    {
        var header = CheckpointFile.ReadHeader(path);
        if (expectedSha256 is not null && !string.Equals(header.Sha256, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new CheckpointCorruptException(path, $"SHA-256 {header.Sha256} is not the committed {expectedSha256}");
        return CheckpointFile.Load(path, model, optimizer);
    }

    public static double[] Encode(LrScheduleState s) => [s.Step, s.Epoch, s.Lr];

    public static LrScheduleState Decode(double[] s) => new((long)s[0], (int)s[1], s[2]);
}
