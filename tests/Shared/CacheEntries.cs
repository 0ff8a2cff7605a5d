using ActorTraining.Compute.Features;

/// <summary>Synthetic feature-cache entries both sides of a two-process test agree on: a key and values per (tag, i).</summary>
public static class CacheEntries
{
    public static readonly SourceStamp Stamp = new(1, 1);

    public static FeatureKey Key(string tag, int i) => new($"/synthetic/{tag}-{i}.wav", 10, 64, 10.0);

    public static float[] Values(string tag, int i, int frames)
    {
        var random = new Random(i * 7919 + tag.Sum(c => c)); // not HashCode: it is seeded per process
        return Enumerable.Range(0, frames * 64).Select(_ => (float)random.NextDouble()).ToArray();
    }
}
