namespace ActorTraining.Compute.Audio;

/// <summary>MP3 through the managed NLayer decoder, Ogg Vorbis through NVorbis; both seek without decoding what they skip.</summary>
internal static class CompressedDecoders
{
    /// <summary>Samples NLayer puts out before the first audio frame's: it reads the Xing/Info frame as a header, not as audio (measured, Mp3GaplessTests).</summary>
    const int NLayerLead = 0;

    public static DecodedAudio DecodeMp3(string path, Stream stream, DecodeOptions options)
    {
        try
        {
            var gapless = Mp3Gapless.Read(stream);
            using var mpeg = new NLayer.MpegFile(stream);
            return ReadAll(path, "MP3", mpeg.Channels, mpeg.SampleRate, options,
                seek: t => mpeg.Time = t, read: (buf, off, n) => mpeg.ReadSamples(buf, off, n),
                skip: gapless is null ? 0 : NLayerLead + gapless.EncoderDelay + Mp3Gapless.DecoderDelay, available: gapless?.SourceSamples ?? long.MaxValue);
        }
        catch (AudioDecodeException) { throw; }
        catch (Exception e) { throw new AudioDecodeException(path, $"corrupt MP3: {e.Message}", e); }
    }

    public static DecodedAudio DecodeVorbis(string path, Stream stream, DecodeOptions options)
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

    /// <summary>
    /// <paramref name="skip"/> samples per channel are decoded and dropped after the start (an MP3's priming and decoder
    /// delay); at most <paramref name="available"/> samples per channel are the source's (the rest is padding).
    /// </summary>
    private static DecodedAudio ReadAll(string path, string kind, int channels, int sampleRate, DecodeOptions options,
        Action<TimeSpan> seek, Func<float[], int, int, int> read, int skip = 0, long available = long.MaxValue)
    {
        if (channels is < 1 or > 255) throw new AudioDecodeException(path, $"absurd {kind} header: {channels} channels");
        if (sampleRate is < 1000 or > 768_000) throw new AudioDecodeException(path, $"absurd {kind} header: sample rate {sampleRate} Hz");
        if (options.StartSeconds > 0) seek(TimeSpan.FromSeconds(options.StartSeconds));
        long remaining = available == long.MaxValue ? long.MaxValue : Math.Max(0, available - (long)Math.Round(options.StartSeconds * sampleRate));
        long limit = Math.Min(options.MaxSeconds is { } max ? (long)Math.Ceiling(max * sampleRate) : long.MaxValue, remaining);
        limit = limit == long.MaxValue ? long.MaxValue : limit * channels;
        var chunks = new List<float[]>();
        long total = 0;
        var buffer = new float[channels * 16384];
        for (long dropped = 0; dropped < (long)skip * channels;)
        {
            int n = read(buffer, 0, (int)Math.Min(buffer.Length, (long)skip * channels - dropped));
            if (n <= 0) break;
            dropped += n;
        }
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
