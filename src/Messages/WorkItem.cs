namespace ActorTraining.Messages;

/// <summary>
/// One clip to prepare: <paramref name="Position"/> is its place in the epoch's shuffled order (batches are formed
/// in this order), <paramref name="Target"/> its multi-hot label vector. When mixup picked a partner,
/// <paramref name="MixPath"/>/<paramref name="MixTarget"/> name it. <paramref name="SampleSeed"/> seeds every random
/// choice made for this sample (mixup λ, SpecAugment masks), derived from (seed, epoch, position) so a resumed run
/// draws the same numbers. <paramref name="StartSeconds"/>: where in the file the clip begins (a window of a longer recording).
/// </summary>
public sealed record WorkItem(int Epoch, long Position, string AudioPath, float[] Target, string? MixPath,
    float[]? MixTarget, int SampleSeed, double StartSeconds = 0) : IPipelineMessage;
