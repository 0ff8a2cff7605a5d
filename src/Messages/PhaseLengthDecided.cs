namespace ActorTraining.Messages;

/// <summary>
/// The adaptive scheduler decided, from the scores of <paramref name="Phase"/>'s epochs up to <paramref name="Epoch"/>,
/// how long the phase trains: one epoch more (<paramref name="EndsPhase"/> false; it now has
/// <paramref name="PhaseEpochs"/>) or no more (it ends after <paramref name="PhaseEpochs"/> epochs and the next phase
/// may train up to <paramref name="NextPhaseEpochs"/>). <paramref name="Reason"/> says why, with the numbers.
/// </summary>
public sealed record PhaseLengthDecided(int Phase, int Epoch, bool EndsPhase, int PhaseEpochs, int NextPhaseEpochs, string Reason)
    : ISupervisorEvent;
