namespace ActorTraining.Messages;

/// <summary>
/// Phase supervisor → the ranks of a generation: stop after a step, all after the same one (the request rides in the
/// step's all-reduce), and report the state held (a rank is joining, or the coordinator changed).
/// </summary>
public sealed record PauseGeneration(int RunIndex, int Generation) : IControlMessage;
