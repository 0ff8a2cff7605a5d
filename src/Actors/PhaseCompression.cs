using ActorTraining.Compute.Compression;

namespace ActorTraining.Actors;

/// <summary>The Compute <see cref="Compression"/> for a phase's configured method name, factor and pooling.</summary>
public static class PhaseCompression
{
    public static Compression Of(string method, int factor, string pooling) => new(
        method switch
        {
            "fshift" => CompressionMethod.FShift,
            "pool" => CompressionMethod.Pool,
            "patch" => CompressionMethod.Patch,
            _ => throw new ArgumentException($"unknown compression method '{method}' (fshift, pool or patch)", nameof(method)),
        },
        factor,
        pooling == "avg" ? PoolingKind.Avg : PoolingKind.Max);
}
