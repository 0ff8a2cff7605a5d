namespace ActorTraining.Messages;

/// <summary>A clip ready for the model: row-major [InputFrames, MelBins] values (compressed, padded or cut, augmented, normalised) and its target.</summary>
public sealed record SamplePrepared(WorkItem Item, float[] Values, float[] Target) : IPipelineMessage;
