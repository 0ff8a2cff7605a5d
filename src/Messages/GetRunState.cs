namespace ActorTraining.Messages;

/// <summary>Ask the phase supervisor (or a journal reader) for its current run state.</summary>
public sealed record GetRunState : IControlMessage
{
    public static readonly GetRunState Instance = new();
}
