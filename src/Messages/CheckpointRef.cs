namespace ActorTraining.Messages;

/// <summary>A checkpoint file and the SHA-256 it must have; how weights travel between actors (and nodes).</summary>
public sealed record CheckpointRef(string Path, string Sha256) : IControlMessage;
