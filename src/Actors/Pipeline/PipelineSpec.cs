using ActorTraining.Compute.Compression;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Features;

namespace ActorTraining.Actors;

/// <summary>
/// What one data pipeline (corpus reader → decoders → spectrogram workers → compressors → batcher) produces: which clips, in which
/// order (shuffled per epoch from <paramref name="Seed"/>, or as listed), with which front end (frame shift and mel
/// bins; the phase's <see cref="Compression"/>), at which input length, normalised how, augmented or not, in batches of what size.
/// <paramref name="Share"/> says which positions of each global batch this pipeline reads (a rank's part, an
/// evaluation shard's batches, or everything). <paramref name="Workers"/> sizes each stage's pool; <paramref name="PrefetchBatches"/> bounds the
/// work in flight (see <see cref="Batcher"/>). <paramref name="Cache"/>: where fbanks are kept between epochs, phases
/// and evaluations (null: computed every time). <paramref name="ShardCache"/>: the node's shard cache, when
/// <paramref name="Entries"/> is a <see cref="ShardCorpus"/>.
/// </summary>
public sealed record PipelineSpec(
    IReadOnlyList<DatasetEntry> Entries,
    LabelSet Labels,
    int Seed,
    bool Shuffle,
    bool Augment,
    double MixupProbability,
    double BaseFrameShiftMs,
    int MelBins,
    int FineTargetFrames,
    Compression Compression,
    int InputFrames,
    double Mean,
    double Std,
    int FreqMask,
    int TimeMask,
    int BatchSize,
    int Workers,
    DataShare Share,
    int PrefetchBatches = 2,
    FeatureCacheSettings? Cache = null,
    SampleWeights? Weights = null,
    ShardCacheSettings? ShardCache = null)
{
    /// <summary>A stage's access to the phase's front end and the feature cache (one per actor: not thread-safe).</summary>
    public ClipFeatures Features() => new(new FbankOptions(FrameShiftMs: Compression.FrameShiftMs(BaseFrameShiftMs), MelBins: MelBins),
        MaxSeconds, Cache is { } settings ? FeatureCache.For(settings) : null);

    /// <summary>What a worker does to a clip's fbank to make it an input row.</summary>
    public SamplePreparation Preparation => new(Compression, InputFrames, FreqMask, TimeMask, Mean, Std);

    /// <summary>Most work items between the reader and a formed batch at any time (arrived or on their way).</summary>
    public int InFlightLimit => Share.MostPerBatch * (PrefetchBatches + 1);

    /// <summary>Seconds of audio worth decoding: what the fine input length covers, plus a frame.</summary>
    public double MaxSeconds => (FineTargetFrames * BaseFrameShiftMs + 25) / 1000.0;
}
