using System.Buffers.Binary;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// WAV (RIFF/WAVE): PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE, any channel count.
/// Our own small RIFF walker rather than NAudio.Core 3.3.0's WaveFileReader: on Linux that reader parses these
/// headers, but it silently shortens a data chunk that runs past the end of the file (a truncated recording
/// passes as shorter audio), its chunk reader with the data offset is internal, and its sample-frame reader
/// skips 8-bit PCM and 64-bit float. Compressed WAV payloads (ADPCM, A-law, µ-law, GSM, MP3-in-WAV) go to ffmpeg.
/// </summary>
internal static class WavDecoder
{
    private static readonly Guid PcmSubFormat = new("00000001-0000-0010-8000-00aa00389b71");
    private static readonly Guid FloatSubFormat = new("00000003-0000-0010-8000-00aa00389b71");

    /// <summary>Format tags ffmpeg decodes that we do not: MS ADPCM, A-law, µ-law, IMA ADPCM, GSM 6.10, MPEG layer 3.</summary>
    private static readonly HashSet<int> FfmpegTags = [0x0002, 0x0006, 0x0007, 0x0011, 0x0031, 0x0055];

    private sealed record Format(int Tag, int Channels, int SampleRate, int BlockAlign, int BitsPerSample, Guid? SubFormat);

    private enum SampleKind { Pcm, Float }

    /// <summary>Null when the payload is a compressed codec ffmpeg should decode.</summary>
    public static DecodedAudio? Decode(string path, Stream stream, DecodeOptions options)
    {
        var (format, dataPosition, dataLength) = ReadHeader(path, stream);
        var kind = SampleKindOf(path, format);
        if (kind is null) return null;
        CheckHeader(path, format);
        int channels = format.Channels, bytesPerSample = format.BitsPerSample / 8, blockAlign = format.BlockAlign;

        // Writers that stream to a pipe cannot go back to fill in sizes: 0xFFFFFFFF (or 0 followed by data) means "to the end".
        if (dataLength == uint.MaxValue || (dataLength == 0 && stream.Length > dataPosition))
            dataLength = stream.Length - dataPosition;
        if (dataPosition + dataLength > stream.Length)
            throw new AudioDecodeException(path,
                $"truncated WAV: header declares {dataLength} data bytes but the file has {stream.Length - dataPosition}");
        long totalFrames = dataLength / blockAlign;
        long startFrame = Math.Min(totalFrames, (long)Math.Round(options.StartSeconds * format.SampleRate));
        long frames = totalFrames - startFrame;
        if (options.MaxSeconds is { } max) frames = Math.Min(frames, (long)Math.Ceiling(max * format.SampleRate));
        if (frames * blockAlign > Array.MaxLength)
            throw new AudioDecodeException(path, $"WAV too long to decode at once ({frames} frames × {channels} channels); use a max duration");

        // Seek straight to the first wanted frame: a 10 s window of a 2 h recording reads 10 s of bytes.
        stream.Position = dataPosition + startFrame * blockAlign;
        var bytes = new byte[frames * blockAlign];
        stream.ReadExactly(bytes);
        return new DecodedAudio(Convert(bytes, kind.Value, bytesPerSample), channels, format.SampleRate);
    }

    /// <summary>Walks the RIFF chunks up to "data"; "fmt " must come first (as the spec requires).</summary>
    private static (Format Format, long DataPosition, long DataLength) ReadHeader(string path, Stream stream)
    {
        Span<byte> chunk = stackalloc byte[8];
        stream.Position = 12; // "RIFF" size "WAVE" were checked by the sniffer
        Format? format = null;
        while (true)
        {
            if (stream.ReadAtLeast(chunk, 8, throwOnEndOfStream: false) < 8)
                throw new AudioDecodeException(path, format is null ? "truncated WAV: no fmt chunk" : "truncated WAV: no data chunk");
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("fmt "u8))
            {
                if (size is < 16 or > 1024) throw new AudioDecodeException(path, $"absurd WAV header: fmt chunk of {size} bytes");
                var fmt = new byte[size];
                if (stream.ReadAtLeast(fmt, fmt.Length, throwOnEndOfStream: false) < fmt.Length)
                    throw new AudioDecodeException(path, "truncated WAV: fmt chunk cut short");
                var f = fmt.AsSpan();
                int tag = BinaryPrimitives.ReadUInt16LittleEndian(f);
                Guid? sub = tag == 0xFFFE && size >= 40 ? new Guid(f.Slice(24, 16)) : null;
                if (tag == 0xFFFE && sub is null) throw new AudioDecodeException(path, "absurd WAV header: WAVE_FORMAT_EXTENSIBLE without a sub-format");
                format = new Format(tag, BinaryPrimitives.ReadUInt16LittleEndian(f[2..]), BinaryPrimitives.ReadInt32LittleEndian(f[4..]),
                    BinaryPrimitives.ReadUInt16LittleEndian(f[12..]), BinaryPrimitives.ReadUInt16LittleEndian(f[14..]), sub);
                if ((size & 1) == 1) stream.Position++;
            }
            else if (chunk[..4].SequenceEqual("data"u8))
            {
                if (format is null) throw new AudioDecodeException(path, "absurd WAV header: data chunk before fmt chunk");
                return (format, stream.Position, size);
            }
            else
            {
                stream.Position += size + (size & 1);
            }
        }
    }

    private static SampleKind? SampleKindOf(string path, Format format)
    {
        int tag = format.Tag;
        if (tag == 0xFFFE)
        {
            var subFormat = format.SubFormat!.Value;
            if (subFormat == PcmSubFormat) return SampleKind.Pcm;
            if (subFormat == FloatSubFormat) return SampleKind.Float;
            throw new AudioDecodeException(path, $"unsupported codec: WAVE_FORMAT_EXTENSIBLE sub-format {subFormat}");
        }
        if (tag == 0x0001) return SampleKind.Pcm;
        if (tag == 0x0003) return SampleKind.Float;
        if (FfmpegTags.Contains(tag)) return null;
        throw new AudioDecodeException(path, $"unsupported codec: WAV format tag 0x{tag:X4}");
    }

    /// <summary>Rejects headers no real recorder writes, before they turn into huge allocations or divisions by zero.</summary>
    private static void CheckHeader(string path, Format f)
    {
        if (f.Channels is < 1 or > 64) throw new AudioDecodeException(path, $"absurd WAV header: {f.Channels} channels");
        if (f.SampleRate is < 1000 or > 1_536_000) throw new AudioDecodeException(path, $"absurd WAV header: sample rate {f.SampleRate} Hz");
        if (f.BitsPerSample is not (8 or 16 or 24 or 32 or 64))
            throw new AudioDecodeException(path, $"unsupported WAV sample size: {f.BitsPerSample} bits");
        if (f.Tag == 3 && f.BitsPerSample is not (32 or 64))
            throw new AudioDecodeException(path, $"absurd WAV header: {f.BitsPerSample}-bit IEEE float");
        if (f.BlockAlign != f.Channels * f.BitsPerSample / 8)
            throw new AudioDecodeException(path, $"absurd WAV header: block align {f.BlockAlign} for {f.Channels} channels of {f.BitsPerSample} bits");
    }

    private static float[] Convert(byte[] bytes, SampleKind kind, int bytesPerSample)
    {
        var samples = new float[bytes.Length / bytesPerSample];
        ReadOnlySpan<byte> b = bytes;
        switch (kind, bytesPerSample)
        {
            case (SampleKind.Pcm, 1):
                for (int i = 0; i < samples.Length; i++) samples[i] = (b[i] - 128) / 128f;
                break;
            case (SampleKind.Pcm, 2):
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]) / 32768f;
                break;
            case (SampleKind.Pcm, 3):
                for (int i = 0; i < samples.Length; i++)
                    samples[i] = ((b[3 * i] << 8 | b[3 * i + 1] << 16 | b[3 * i + 2] << 24) >> 8) / 8388608f;
                break;
            case (SampleKind.Pcm, 4):
                for (int i = 0; i < samples.Length; i++) samples[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]) / 2147483648.0);
                break;
            case (SampleKind.Float, 4):
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]);
                break;
            case (SampleKind.Float, 8):
                for (int i = 0; i < samples.Length; i++) samples[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"no conversion for {kind} {bytesPerSample * 8}-bit"); // CheckHeader rules this out
        }
        return samples;
    }
}
