namespace ActorTraining.Messages;

/// <summary>
/// A batch in work-item order: inputs row-major [Size, Frames, MelBins], targets [Size, NumClasses].
/// <paramref name="EndPosition"/> is the epoch position after this batch's last item (the data position a checkpoint
/// taken after this batch records). <paramref name="Skipped"/> lists unreadable files passed over inside it.
/// </summary>
public sealed record TrainingBatch(int Epoch, long EndPosition, int Size, int Frames, int MelBins, float[] Inputs,
    int NumClasses, float[] Targets, IReadOnlyList<string> Skipped) : IPipelineMessage;
