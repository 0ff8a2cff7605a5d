namespace ActorTraining.Messages;

/// <summary>A log-mel spectrogram, row-major [Frames, MelBins], before padding and normalisation.</summary>
public sealed record SpectrogramReady(WorkItem Item, float[] Values, int Frames, int MelBins, float[] Target) : IPipelineMessage;
