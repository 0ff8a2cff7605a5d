namespace ActorTraining.Actors;

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

    // splitmix64 finaliser
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The epoch's order of <paramref name="count"/> items: a Fisher–Yates shuffle seeded from (seed, epoch).</summary>
    public static int[] Permutation(int count, int seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var rng = new Random(For(seed, epoch, -1));
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
