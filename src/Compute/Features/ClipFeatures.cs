using ActorTraining.Compute.Audio;

namespace ActorTraining.Compute.Features;

/// <summary>
/// A clip's fbank for one front end: from the <see cref="FeatureCache"/> when it holds it, else decoded (only the
/// seconds the input covers, 16 kHz mono) and computed, then stored. A waveform (a mixup of two clips) is computed and
/// never cached. With a float16 cache every fbank is rounded to float16, cached or not. One per worker (the extractor
/// keeps its windows and mel banks); not thread-safe.
/// </summary>
public sealed class ClipFeatures(FbankOptions options, double maxSeconds, FeatureCache? cache)
{
    readonly FbankExtractor _extractor = new(options);
    readonly DecodeOptions _decode = new(MaxSeconds: maxSeconds);
    readonly FeatureKey _front = new("", options.FrameShiftMs, options.MelBins, maxSeconds);

    public int MelBins => options.MelBins;

    /// <summary>16 kHz mono samples of the part of the clip the input covers, from <paramref name="startSeconds"/> into the
    /// file; <see cref="AudioDecodeException"/> when unreadable.</summary>
    public float[] Decode(string path, double startSeconds = 0) =>
        AudioDecoder.Decode(path, startSeconds == 0 ? _decode : _decode with { StartSeconds = startSeconds });

    /// <summary>Where the clip's fbank is cached (its key, and its source's stamp taken now, before it is decoded: a clip
    /// edited meanwhile is stale at its next read), from <paramref name="startSeconds"/> into the file; null without a cache.</summary>
    public FeatureEntry? EntryOf(string path, double startSeconds = 0)
    {
        if (cache is null) return null;
        var full = Path.GetFullPath(path);
        return new(_front with { AudioPath = full, StartSeconds = startSeconds }, SourceStamp.Of(full));
    }

    /// <summary>Where the fbank of audio that is not a file of its own (a shard's sample) is cached: under
    /// <paramref name="name"/> and <paramref name="stamp"/>, in the packs of <paramref name="group"/> (its shard); null without a cache.</summary>
    public FeatureEntry? EntryOf(string name, SourceStamp stamp, string group) => cache is null ? null : new(_front with { AudioPath = name, Group = group }, stamp);

    /// <summary>The cached fbank of <paramref name="entry"/>, or null.</summary>
    public CachedFbank? Cached(FeatureEntry? entry) => entry is null ? null : cache!.Read(entry.Key, entry.Stamp);

    /// <summary>Keeps <paramref name="fbank"/> under <paramref name="entry"/> (not an empty one). <paramref name="onNotice"/> hears what the cache has to say, each thing once.</summary>
    public void Store(FeatureEntry? entry, CachedFbank fbank, Action<string>? onNotice = null)
    {
        if (entry is not null && fbank.Frames > 0) cache!.Store(entry.Key, entry.Stamp, fbank.Values, fbank.Frames, fbank.Samples, onNotice);
    }

    /// <summary>The clip's fbank (cached or computed), from <paramref name="startSeconds"/> into the file (a window of a
    /// longer recording). <paramref name="onNotice"/> hears what the cache has to say, each thing once.</summary>
    public CachedFbank Of(string path, Action<string>? onNotice = null, double startSeconds = 0)
    {
        var entry = EntryOf(path, startSeconds);
        if (Cached(entry) is { } cached) return cached;
        var fbank = Compute(Decode(path, startSeconds));
        Store(entry, fbank, onNotice);
        return fbank;
    }

    /// <summary>The fbank of a waveform (rounded as the cache's precision rounds).</summary>
    public CachedFbank Compute(float[] waveform)
    {
        var values = _extractor.Values(waveform);
        if (cache is not null) FeatureCache.RoundToPrecision(values, cache.Settings.Precision);
        return new CachedFbank(values, _extractor.FrameCount(waveform.Length), waveform.Length);
    }

    /// <summary>A clip of <paramref name="samples"/> samples is shorter than one analysis window and was zero-padded to one.</summary>
    public bool IsPadded(long samples) => _extractor.IsPadded(samples);
}

/// <summary>A clip's place in the feature cache: its key (source, front end) and its source's stamp.</summary>
public sealed record FeatureEntry(FeatureKey Key, SourceStamp Stamp);
