namespace ActorTraining.Compute.Audio;

/// <summary>Target rate of the mono output, and the part of the file to decode (start offset, optional maximum length).</summary>
public sealed record DecodeOptions(int SampleRate = 16000, double StartSeconds = 0, double? MaxSeconds = null);
