namespace ActorTraining.Messages;

/// <summary>A decoded (and, when chosen, mixed) mono 16 kHz waveform with its — possibly mixed — target.</summary>
public sealed record DecodedClip(WorkItem Item, float[] Waveform, float[] Target) : IPipelineMessage;
