using System.Buffers.Binary;

namespace ActorTraining.Compute.Audio;

/// <summary>How the sample bytes of an uncompressed container are to be read (after NAudio's AIFF reader has put them in little-endian order).</summary>
internal enum PcmEncoding { Integer, Float }

/// <summary>
/// Uncompressed sample data (WAV, AIFF) → interleaved floats: the header sanity checks, the window of frames a
/// <see cref="DecodeOptions"/> asks for, and the conversion of 8/16/24/32-bit integers and 32/64-bit floats. The
/// containers themselves are read by NAudio.Core (<see cref="WavDecoder"/>, <see cref="AiffDecoder"/>); NAudio's own
/// sample-frame reader skips 8-bit integers and 64-bit floats, so the conversion is ours.
/// </summary>
internal static class PcmSamples
{
    /// <summary>Rejects headers no real recorder writes, before they turn into huge allocations or divisions by zero.</summary>
    public static void CheckFormat(string path, string container, int channels, int sampleRate, int bitsPerSample, int blockAlign, PcmEncoding encoding)
    {
        if (channels is < 1 or > 64) throw new AudioDecodeException(path, $"absurd {container} header: {channels} channels");
        if (sampleRate is < 1000 or > 1_536_000) throw new AudioDecodeException(path, $"absurd {container} header: sample rate {sampleRate} Hz");
        if (bitsPerSample is not (8 or 16 or 24 or 32 or 64))
            throw new AudioDecodeException(path, $"unsupported {container} sample size: {bitsPerSample} bits");
        if (encoding == PcmEncoding.Float && bitsPerSample is not (32 or 64))
            throw new AudioDecodeException(path, $"absurd {container} header: {bitsPerSample}-bit IEEE float");
        if (encoding == PcmEncoding.Integer && bitsPerSample == 64)
            throw new AudioDecodeException(path, $"unsupported {container} sample size: 64-bit integers");
        if (blockAlign != channels * bitsPerSample / 8)
            throw new AudioDecodeException(path, $"absurd {container} header: block align {blockAlign} for {channels} channels of {bitsPerSample} bits");
    }

    /// <summary>
    /// Reads the frames the options ask for from <paramref name="source"/>, positioned at the first frame of the data,
    /// holding <paramref name="totalFrames"/> frames. It seeks straight to the first wanted frame: a 10 s window of a
    /// 2 h recording reads 10 s of bytes.
    /// </summary>
    public static DecodedAudio ReadWindow(string path, string container, Stream source, long totalFrames, int channels, int sampleRate,
        int bitsPerSample, PcmEncoding encoding, DecodeOptions options)
    {
        int blockAlign = channels * bitsPerSample / 8;
        long startFrame = Math.Min(totalFrames, (long)Math.Round(options.StartSeconds * sampleRate));
        long frames = totalFrames - startFrame;
        if (options.MaxSeconds is { } max) frames = Math.Min(frames, (long)Math.Ceiling(max * sampleRate));
        if (frames * blockAlign > Array.MaxLength)
            throw new AudioDecodeException(path, $"{container} too long to decode at once ({frames} frames × {channels} channels); use a max duration");
        source.Seek(startFrame * blockAlign, SeekOrigin.Current);
        var bytes = new byte[frames * blockAlign];
        int read = source.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length)
            throw new AudioDecodeException(path, $"truncated {container}: {read} of {bytes.Length} sample bytes could be read");
        return new DecodedAudio(Convert(bytes, encoding, bitsPerSample / 8), channels, sampleRate);
    }

    private static float[] Convert(byte[] bytes, PcmEncoding encoding, int bytesPerSample)
    {
        var samples = new float[bytes.Length / bytesPerSample];
        ReadOnlySpan<byte> b = bytes;
        switch (encoding, bytesPerSample)
        {
            case (PcmEncoding.Integer, 1):
                for (int i = 0; i < samples.Length; i++) samples[i] = (b[i] - 128) / 128f;
                break;
            case (PcmEncoding.Integer, 2):
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]) / 32768f;
                break;
            case (PcmEncoding.Integer, 3):
                for (int i = 0; i < samples.Length; i++)
                    samples[i] = ((b[3 * i] << 8 | b[3 * i + 1] << 16 | b[3 * i + 2] << 24) >> 8) / 8388608f;
                break;
            case (PcmEncoding.Integer, 4):
                for (int i = 0; i < samples.Length; i++) samples[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]) / 2147483648.0);
                break;
            case (PcmEncoding.Float, 4):
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]);
                break;
            case (PcmEncoding.Float, 8):
                for (int i = 0; i < samples.Length; i++) samples[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"no conversion for {encoding} {bytesPerSample * 8}-bit"); // CheckFormat rules this out
        }
        return samples;
    }
}
