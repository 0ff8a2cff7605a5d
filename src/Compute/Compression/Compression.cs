using ActorTraining.Compute.Model;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Compression;

/// <summary>
/// One phase's temporal compression: a method and a factor C ≥ 1. The one typed form of it: configuration files,
/// journal events and metrics files spell it as words ("pool", "max"), which <see cref="Parse"/> reads and
/// <see cref="Name"/> writes, and nothing else does.
/// </summary>
public sealed record Compression(CompressionMethod Method, int Factor, PoolingKind Pooling = PoolingKind.Max)
{
    /// <summary>The compression written as words: method fshift|pool|patch, factor C, pooling max|avg (pool only).</summary>
    public static Compression Parse(string method, int factor, string pooling) => new(
        method switch
        {
            "fshift" => CompressionMethod.FShift,
            "pool" => CompressionMethod.Pool,
            "patch" => CompressionMethod.Patch,
            _ => throw new ArgumentException($"unknown compression method '{method}' (fshift, pool or patch)", nameof(method)),
        },
        factor,
        pooling switch
        {
            "max" => PoolingKind.Max,
            "avg" => PoolingKind.Avg,
            _ => throw new ArgumentException($"unknown pooling '{pooling}' (max or avg)", nameof(pooling)),
        });

    /// <summary>The method as configuration, journal and metrics files write it: fshift, pool or patch.</summary>
    public string MethodWord => Method.ToString().ToLowerInvariant();

    /// <summary>The pooling as configuration, journal and metrics files write it: max or avg.</summary>
    public string PoolingWord => Pooling.ToString().ToLowerInvariant();

    /// <summary>The method as reports name it: "pool-max", "pool-avg", "fshift", "patch".</summary>
    public string Name => Method == CompressionMethod.Pool ? $"pool-{Pooling.ToString().ToLowerInvariant()}" : Method.ToString().ToLowerInvariant();

    /// <summary>The full resolution of any method (C = 1).</summary>
    public bool IsFull => Factor == 1;

    public int Factor { get; init; } = Factor >= 1
        ? Factor
        : throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "compression factor must be ≥ 1");

    /// <summary>Front-end hop: 10·C ms for fshift, the base hop otherwise.</summary>
    public double FrameShiftMs(double baseShiftMs = 10) =>
        Method == CompressionMethod.FShift ? baseShiftMs * Factor : baseShiftMs;

    /// <summary>Frames per clip fed to the model: fine / C (floor) for fshift and pool, fine for patch.</summary>
    public int TargetLength(int fineTargetLength) =>
        Method == CompressionMethod.Patch ? fineTargetLength : fineTargetLength / Factor;

    /// <summary>SpecAugment time-mask width in this phase's frames.</summary>
    public int TimeMask(int fineTimem) =>
        Method == CompressionMethod.Patch ? fineTimem : fineTimem / Factor;

    /// <summary>Model geometry for this phase, from the C = 1 configuration (validated: a factor too large for
    /// the input throws ArgumentException naming PatchT). Patch: time patches C times wider (and, for AST, strided C
    /// times further); fshift and pool: C times fewer frames.</summary>
    public ModelGeometry ModelConfig(ModelGeometry fine) => (fine.Htsat is { } htsat
        ? (ModelGeometry)(Method == CompressionMethod.Patch ? htsat with { PatchT = htsat.PatchT * Factor } : htsat with { TargetLength = TargetLength(htsat.TargetLength) })
        : new ModelGeometry(Method switch
        {
            CompressionMethod.Patch => fine.Ast! with { PatchT = fine.Ast!.PatchT * Factor, TStride = fine.Ast.TStride * Factor },
            _ => fine.Ast! with { TargetLength = TargetLength(fine.Ast!.TargetLength) },
        }, null, fine.Pretext)).Validate();

    /// <summary>
    /// Pool: pools [T, F] or [B, T, F] over time with kernel = stride = C (a trailing remainder &lt; C frames is
    /// dropped; a clip of fewer than C frames pools what it has into one frame, so a short clip trains at every C).
    /// FShift and Patch: returns the input unchanged (the front end or the model does the work).
    /// </summary>
    public Tensor ApplyToFbank(Tensor fbank)
    {
        if (Method != CompressionMethod.Pool || Factor == 1) return fbank;
        if (fbank.dim() is not (2 or 3))
            throw new ArgumentException($"fbank must be [T, F] or [B, T, F], got [{string.Join(", ", fbank.shape)}]", nameof(fbank));
        if (fbank.shape[^2] == 0) throw new ArgumentException("fbank has no frame", nameof(fbank));
        using var scope = NewDisposeScope();
        var channelsFirst = fbank.transpose(-1, -2); // [.., F, T]: pool over the last axis
        int kernel = (int)Math.Min(Factor, fbank.shape[^2]);
        var pooled = Pooling == PoolingKind.Max
            ? nn.functional.max_pool1d(channelsFirst, kernel, kernel)
            : nn.functional.avg_pool1d(channelsFirst, kernel, kernel);
        return pooled.transpose(-1, -2).contiguous().MoveToOuterDisposeScope();
    }

    public override string ToString() => $"{Name} C={Factor}";
}
