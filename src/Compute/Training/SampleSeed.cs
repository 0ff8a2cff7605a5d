namespace ActorTraining.Compute.Training;

/// <summary>
/// Seeds derived from (seed, epoch, position) by a fixed integer hash, so every random choice about a sample is the
/// same whichever worker handles it and whether or not the run was interrupted. No shared stateful RNG.
/// </summary>
public static class SampleSeed
{
    public static int For(int seed, int epoch, long position, int stream = 0)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        h = Mix(h ^ (ulong)(uint)seed);
        h = Mix(h ^ (ulong)(uint)epoch);
        h = Mix(h ^ (ulong)position);
        h = Mix(h ^ (ulong)(uint)stream);
        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>The seeds of a clip's two SSAST masks (discriminative, generative) at <paramref name="position"/> of
    /// <paramref name="epoch"/> in phase <paramref name="phase"/>; an evaluation passes <see cref="EvaluationEpoch"/>, so
    /// every epoch of a phase is scored on the same masks and its curve compares like with like.</summary>
    public static (int Discriminative, int Generative) ForMasks(int seed, int phase, int epoch, long position) =>
        (For(seed, epoch, position, stream: 1000 + 2 * phase), For(seed, epoch, position, stream: 1001 + 2 * phase));

    /// <summary>The epoch an evaluation's random choices are keyed by.</summary>
    public const int EvaluationEpoch = -3;

    /// <summary>The torch generator's seed at the start of phase <paramref name="phaseIndex"/> (after the first).</summary>
    public static int ForPhaseStart(int seed, int phaseIndex) => For(seed, phaseIndex, -1, stream: -1);

    // splitmix64 finaliser
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
