namespace ActorTraining.Compute.Checkpoints;

/// <summary>
/// Training position stored with a checkpoint (JSON via System.Text.Json; byte[] as base64).
/// DataPosition = samples consumed in the current epoch; LrScheduleState is the schedule's own serialised
/// state; TorchRngState from <see cref="TorchRng.Capture"/>; RandomSeed/RandomCounter let the caller rebuild
/// its System.Random (seed + number of draws); ConfigHash identifies the experiment configuration.
/// </summary>
public sealed record TrainingCheckpointInfo(
    int PhaseIndex,
    long Step,
    int Epoch,
    long DataPosition,
    double[] LrScheduleState,
    byte[] TorchRngState,
    int RandomSeed,
    long RandomCounter,
    string ConfigHash);
