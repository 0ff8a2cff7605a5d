namespace ActorTraining.Compute.Model;

/// <summary>
/// Which patches SSAST masks in a clip: clusters of neighbouring patches for patch-based models (the reference's
/// gen_maskid_patch) and plain random frames for frame-based ones (gen_maskid_frame), drawn from the caller's generator so
/// a (seed, epoch, position) key makes them the same on resume and on any number of ranks.
/// <para>How many: the reference masks a fixed 400 of its 512 patches and loops for ever (or fails) when a clip has fewer
/// patches — what every coarse phase of a coarse-to-fine pretraining has. Here the count is a fraction of the phase's
/// patches (<see cref="Count"/>; 400/512 by default), so a phase with half the patches masks half as many.</para>
/// </summary>
public static class SsastMasks
{
    /// <summary>The reference's share: 400 masked of 512 patches (1024 frames × 128 mel in 16 × 16 patches).</summary>
    public const double ReferenceRatio = 400.0 / 512;

    /// <summary>Patches to mask of <paramref name="patches"/>: the ratio's share, at least 1 and at most patches − 2 (the
    /// cluster sampler never picks patch 0, as the reference's, and needs one patch more than it takes).</summary>
    public static int Count(int patches, double ratio)
    {
        if (patches < 3) throw new ArgumentException($"{patches} patches: SSAST needs at least 3 to mask some and keep some", nameof(patches));
        return Math.Clamp((int)Math.Round(ratio * patches), 1, patches - 2);
    }

    /// <summary>
    /// The reference's cluster masking: a cluster size c in 3…5 for the clip, then squares of c × c patches (rows of
    /// <paramref name="columns"/> patches: frequency-major order) from random starts until more than
    /// <paramref name="count"/> distinct patches are covered; the first <paramref name="count"/> in the order drawn.
    /// A square running past a row's end continues on the next row, and patch 0 is never masked, as in the reference.
    /// </summary>
    public static long[] Clusters(int patches, int columns, int count, Random random)
    {
        if (count < 1 || count > patches - 2) throw new ArgumentOutOfRangeException(nameof(count), count, $"1…{patches - 2} of {patches} patches");
        int cluster = random.Next(3) + 3;
        var chosen = new List<long>(count + cluster * cluster);
        var seen = new HashSet<long>();
        while (seen.Count <= count)
        {
            int start = random.Next(patches);
            for (int i = 0; i < cluster; i++)
                for (int j = 0; j < cluster; j++)
                {
                    long candidate = start + (long)columns * i + j;
                    if (candidate > 0 && candidate < patches && seen.Add(candidate)) chosen.Add(candidate);
                }
        }
        return chosen.Take(count).ToArray();
    }

    /// <summary>The reference's frame masking: <paramref name="count"/> distinct frames, uniformly (random.sample).</summary>
    public static long[] Frames(int patches, int count, Random random)
    {
        if (count < 1 || count > patches) throw new ArgumentOutOfRangeException(nameof(count), count, $"1…{patches} of {patches} frames");
        var order = Enumerable.Range(0, patches).Select(i => (long)i).ToArray();
        for (int i = 0; i < count; i++) // partial Fisher–Yates
        {
            int j = i + random.Next(patches - i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..count];
    }
}
