namespace ActorTraining.Compute.Compression;

/// <summary>How a coarse phase shortens the token sequence along time (arXiv 2401.08415).</summary>
public enum CompressionMethod
{
    /// <summary>Front end computes the fbank with hop 10·C ms.</summary>
    FShift,
    /// <summary>The 10 ms fbank is pooled over time with kernel = stride = C.</summary>
    Pool,
    /// <summary>The 10 ms fbank stays; time patch size and time stride are multiplied by C.</summary>
    Patch,
}

public enum PoolingKind { Max, Avg }
