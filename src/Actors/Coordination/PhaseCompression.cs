using ActorTraining.Compute.Compression;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>The typed <see cref="Compression"/> of a phase as the journal and the messages carry it (in words, see <see cref="Compression.Parse"/>).</summary>
public static class PhaseCompression
{
    public static Compression Of(PhasePlan phase) => Compression.Parse(phase.Method, phase.Factor, phase.Pooling);

    public static Compression Of(PhaseStarted phase) => Compression.Parse(phase.Method, phase.Factor, phase.Pooling);
}
