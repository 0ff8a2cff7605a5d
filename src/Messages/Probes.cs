using Akka.Actor;

namespace ActorTraining.Messages;

// The adaptive scheduler's probes of the next resolution: ordered by the phase supervisor, run beside training by a rank's prober.

/// <summary>
/// What the run wants probed (<c>RunState.PendingProbe</c>): resolution <paramref name="To"/> from the epoch-end
/// <paramref name="Checkpoint"/> of phase <paramref name="From"/>'s epoch <paramref name="Epoch"/>, with a burst of
/// <paramref name="Steps"/> steps; and phase <paramref name="From"/> continued from it for <paramref name="HereSteps"/>
/// steps of the same FLOPs (0: not, for a phase that has not started).
/// </summary>
public sealed record ProbeRequest(PhasePlan From, int Epoch, ProbePurpose Purpose, int Steps, CheckpointRef Checkpoint, PhasePlan To,
    int HereSteps)
{
    public (int Phase, int Epoch, ProbePurpose Purpose) Key => (From.Index, Epoch, Purpose);
}

/// <summary>Phase supervisor → a rank (which hands it to its prober): run this probe and answer <paramref name="ReplyTo"/>.</summary>
public sealed record ProbeNextPhase(int RunIndex, ProbeRequest Request, IActorRef ReplyTo) : IControlMessage;

/// <summary>Prober → phase supervisor: the probe's numbers.</summary>
public sealed record ProbeMeasured(int RunIndex, PhaseProbed Result) : IControlMessage;

/// <summary>Prober → phase supervisor: the probe could not run (<paramref name="Cause"/>, one line).</summary>
public sealed record ProbeFailed(int RunIndex, int Phase, int Epoch, string Cause) : IControlMessage;
