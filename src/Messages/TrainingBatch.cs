namespace ActorTraining.Messages;

/// <summary>
/// One pipeline's part of global batch <paramref name="Batch"/> of an epoch (counted from the position its pipeline
/// started the epoch at: 0, or a resumed data position), in position order: inputs row-major
/// [Size, Frames, MelBins], targets [Size, NumClasses], the epoch positions of the rows. <paramref name="EndPosition"/>
/// is the epoch position after the whole global batch (the data position a checkpoint taken after it records).
/// <paramref name="Skipped"/> lists the unreadable files of this part (they have no row). A rank's part may be empty.
/// </summary>
public sealed record TrainingBatch(int Epoch, long Batch, long EndPosition, int Size, int Frames, int MelBins, float[] Inputs,
    int NumClasses, float[] Targets, long[] Positions, IReadOnlyList<string> Skipped) : IPipelineMessage;
