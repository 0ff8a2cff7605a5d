using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Data;

/// <summary>
/// Which clip an epoch visits at each position: a bijection on [0, count) keyed from (seed, epoch), computed per
/// position so it costs no memory whatever the corpus size (an int[] shuffle would take 4 bytes a clip, 8 MB for
/// 2 M, rebuilt each epoch). A 4-round balanced Feistel network on the smallest even bit width covering the count,
/// with cycle walking back into [0, count) (fewer than 4 steps on average). Unshuffled: position = clip.
/// The same (count, seed, epoch) always gives the same order, so a run resumed at a data position continues it.
/// With <see cref="SampleWeights"/> (the balanced sampler) a position draws a clip with replacement, in proportion to
/// its weight, from a number keyed by (seed, epoch, position): as reproducible, and as free of per-epoch state.
/// </summary>
public sealed class EpochOrder
{
    const int Rounds = 4;

    readonly int _count;
    readonly int _halfBits;
    readonly ulong _halfMask;
    readonly ulong[]? _keys;
    readonly SampleWeights? _weights;
    readonly int _seed, _epoch;

    public EpochOrder(int count, int seed, int epoch, bool shuffle, SampleWeights? weights = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _count = count;
        (_seed, _epoch) = (seed, epoch);
        if (!shuffle) return;
        if (weights is not null)
        {
            if (weights.Count != count) throw new ArgumentException($"{weights.Count} weights for {count} clips", nameof(weights));
            _weights = weights;
            return;
        }
        int bits = 2;
        while ((1L << bits) < count) bits += 2;
        _halfBits = bits / 2;
        _halfMask = (1UL << _halfBits) - 1;
        _keys = new ulong[Rounds];
        for (int r = 0; r < Rounds; r++) _keys[r] = (ulong)SampleSeed.For(seed, epoch, -1, stream: r) << 31 ^ (ulong)SampleSeed.For(seed, epoch, -2, stream: r);
    }

    public int Count => _count;

    /// <summary>The clip visited at <paramref name="position"/> (0 ≤ position &lt; Count).</summary>
    public int this[long position]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(position);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, _count);
            if (_weights is not null)
            {
                ulong bits = SampleSeed.Mix((ulong)(uint)SampleSeed.For(_seed, _epoch, position, stream: 7) << 32 | (ulong)position);
                return _weights.Draw((bits >> 11) * (1.0 / (1UL << 53)));
            }
            if (_keys is null) return (int)position;
            ulong x = (ulong)position;
            do x = Encrypt(x); while (x >= (ulong)_count); // a permutation of the covering range: walks back within the cycle
            return (int)x;
        }
    }

    ulong Encrypt(ulong x)
    {
        ulong left = x >> _halfBits, right = x & _halfMask;
        foreach (var key in _keys!)
            (left, right) = (right, left ^ (SampleSeed.Mix(right ^ key) & _halfMask));
        return left << _halfBits | right;
    }
}
