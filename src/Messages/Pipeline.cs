using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Features;

namespace ActorTraining.Messages;

// The data pipeline of a rank or an evaluator: work items in, prepared samples through, batches out, with back-pressure.

/// <summary>
/// A message of the data pipeline (corpus reader → decoders → spectrogram workers → compressors → batcher → rank or
/// evaluator). These carry
/// audio and spectrograms as float[] and are meant to stay inside one node: the whole chain of one trainer is
/// co-located, so they never cross the network. Never a tensor — tensors live only inside one actor's handler.
/// </summary>
public interface IPipelineMessage;

/// <summary>
/// One clip to prepare: <paramref name="Position"/> is its place in the epoch's shuffled order (batches are formed
/// in this order), <paramref name="Target"/> its multi-hot label vector. When mixup picked a partner,
/// <paramref name="MixPath"/>/<paramref name="MixTarget"/> name it. <paramref name="SampleSeed"/> seeds every random
/// choice made for this sample (mixup λ, SpecAugment masks), derived from (seed, epoch, position) so a resumed run
/// draws the same numbers. <paramref name="StartSeconds"/>: where in the file the clip begins (a window of a longer recording).
/// From a shard corpus, <paramref name="Sample"/> (and <paramref name="MixSample"/>, the partner) say which sample;
/// AudioPath then names it (shard URL#ordinal) and the target is read with the sample.
/// </summary>
public sealed record WorkItem(int Epoch, long Position, string AudioPath, float[] Target, string? MixPath,
    float[]? MixTarget, int SampleSeed, double StartSeconds = 0, ShardSampleRef? Sample = null, ShardSampleRef? MixSample = null) : IPipelineMessage;

/// <summary>Demand, batcher → corpus reader: release <paramref name="Count"/> more work items into the pipeline.</summary>
public sealed record RequestWork(int Count) : IPipelineMessage;

/// <summary>
/// Decoder → spectrogram stage: a clip's 16 kHz mono waveform (mixed with its partner when mixup chose one) and its
/// target. <paramref name="CacheAs"/>: where its fbank is kept in the feature cache (null for a mixed clip, never cached).
/// </summary>
public sealed record DecodedClip(WorkItem Item, float[] Waveform, float[] Target, FeatureEntry? CacheAs) : IPipelineMessage;

/// <summary>Decoder (a feature-cache hit) or spectrogram stage → compressor: the clip's fbank at the phase's front end, and its target.</summary>
public sealed record ClipSpectrogram(WorkItem Item, CachedFbank Fbank, float[] Target) : IPipelineMessage;

/// <summary>A clip ready for the model: row-major [InputFrames, MelBins] values (compressed, padded or cut, augmented, normalised) and its target.</summary>
public sealed record SamplePrepared(WorkItem Item, float[] Values, float[] Target) : IPipelineMessage;

/// <summary>
/// A work item that could not be prepared (unreadable audio). It still reaches the batcher so ordering moves on;
/// the file is skipped, counted and listed. <paramref name="Shard"/>: the whole shard it is in could not be used (told once).
/// </summary>
public sealed record SampleFailed(WorkItem Item, string Reason, string? Shard = null) : IPipelineMessage;

/// <summary>
/// A clip shorter than one analysis window, zero-padded to one window and used like any clip (published on the event
/// stream, so the run's summary can count such clips).
/// </summary>
public sealed record ClipPadded(WorkItem Item, int Samples) : IPipelineMessage;

/// <summary>Demand, consumer (trainer or evaluator) → batcher: send up to <paramref name="Count"/> more batches.</summary>
public sealed record RequestBatches(int Count) : IPipelineMessage;

/// <summary>
/// One pipeline's part of global batch <paramref name="Batch"/> of an epoch (counted from the position its pipeline
/// started the epoch at: 0, or a resumed data position), in position order: inputs row-major
/// [Size, Frames, MelBins], targets [Size, NumClasses], the epoch positions of the rows. <paramref name="EndPosition"/>
/// is the epoch position after the whole global batch (the data position a checkpoint taken after it records).
/// <paramref name="Skipped"/> lists the unreadable files of this part (they have no row). A rank's part may be empty.
/// </summary>
public sealed record TrainingBatch(int Epoch, long Batch, long EndPosition, int Size, int Frames, int MelBins, float[] Inputs,
    int NumClasses, float[] Targets, long[] Positions, IReadOnlyList<string> Skipped) : IPipelineMessage;

/// <summary>Begin epoch <paramref name="Epoch"/> at position <paramref name="FromPosition"/> of its shuffled order (0, or a resumed data position).</summary>
public sealed record StartEpoch(int Epoch, long FromPosition) : IPipelineMessage;

/// <summary>Corpus reader → batcher: epoch <paramref name="Epoch"/> has <paramref name="Positions"/> work items in all; none after.</summary>
public sealed record EpochEnd(int Epoch, long Positions) : IPipelineMessage;

/// <summary>Batcher → consumer: every batch of epoch <paramref name="Epoch"/> was sent (the last one may be short).</summary>
public sealed record EpochDrained(int Epoch, long Positions, IReadOnlyList<string> Skipped) : IPipelineMessage;
