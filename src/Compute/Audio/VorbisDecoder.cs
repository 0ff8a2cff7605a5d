namespace ActorTraining.Compute.Audio;

/// <summary>Ogg Vorbis through the managed NVorbis decoder; it seeks without decoding what it skips.</summary>
internal static class VorbisDecoder
{
    public static DecodedAudio Decode(string path, Stream stream, DecodeOptions options)
    {
        try
        {
            using var vorbis = new NVorbis.VorbisReader(stream, closeOnDispose: false);
            return ReadAll(path, "Ogg Vorbis", vorbis.Channels, vorbis.SampleRate, options,
                seek: t => vorbis.TimePosition = t, read: (buf, off, n) => vorbis.ReadSamples(buf, off, n));
        }
        catch (AudioDecodeException) { throw; }
        catch (Exception e) { throw new AudioDecodeException(path, $"corrupt Ogg Vorbis: {e.Message}", e); }
    }

    private static DecodedAudio ReadAll(string path, string kind, int channels, int sampleRate, DecodeOptions options,
        Action<TimeSpan> seek, Func<float[], int, int, int> read)
    {
        if (channels is < 1 or > 255) throw new AudioDecodeException(path, $"absurd {kind} header: {channels} channels");
        if (sampleRate is < 1000 or > 768_000) throw new AudioDecodeException(path, $"absurd {kind} header: sample rate {sampleRate} Hz");
        if (options.StartSeconds > 0) seek(TimeSpan.FromSeconds(options.StartSeconds));
        long limit = options.MaxSeconds is { } max ? (long)Math.Ceiling(max * sampleRate) : long.MaxValue;
        limit = limit == long.MaxValue ? long.MaxValue : limit * channels;
        var chunks = new List<float[]>();
        long total = 0;
        var buffer = new float[channels * 16384];
        while (total < limit)
        {
            int want = (int)Math.Min(buffer.Length, limit - total);
            int n = read(buffer, 0, want);
            if (n <= 0) break;
            chunks.Add(buffer[..n]);
            total += n;
        }
        if (total > Array.MaxLength) throw new AudioDecodeException(path, $"{kind} too long to decode at once; use a max duration");
        var samples = new float[total - total % channels];
        long pos = 0;
        foreach (var c in chunks)
        {
            int take = (int)Math.Min(c.Length, samples.Length - pos);
            Array.Copy(c, 0, samples, pos, take);
            pos += take;
        }
        return new DecodedAudio(samples, channels, sampleRate);
    }
}
