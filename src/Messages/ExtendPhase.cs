namespace ActorTraining.Messages;

/// <summary>
/// Phase supervisor → the ranks of generation <paramref name="Generation"/>: phase <paramref name="Phase"/> now has
/// <paramref name="Epochs"/> epochs (the adaptive scheduler gave it one more). A rank that already stopped at the old
/// end is formed into a new generation instead.
/// </summary>
public sealed record ExtendPhase(int RunIndex, int Generation, int Phase, int Epochs) : IControlMessage;
