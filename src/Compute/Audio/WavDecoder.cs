using System.Buffers.Binary;
using NAudio.Wave;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// WAV (RIFF/WAVE and RF64): PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE, any channel count.
/// NAudio.Core's WaveFileReader walks the chunks and parses the format; what it leaves out is ours:
/// - a data chunk that runs past the end of the file: NAudio quietly shortens it to what is there, so a truncated
///   recording would pass as shorter audio; we read the declared size back and name the file "truncated";
/// - writers that stream to a pipe and cannot go back to fill in the size (0xFFFFFFFF, or 0 followed by data):
///   the samples run to the end of the file;
/// - the conversion of every sample size (<see cref="PcmSamples"/>; NAudio's frame reader skips 8-bit and 64-bit float).
/// Compressed WAV payloads (ADPCM, A-law, µ-law, GSM, MP3-in-WAV) go to the libav helper.
/// </summary>
internal static class WavDecoder
{
    private static readonly Guid PcmSubFormat = new("00000001-0000-0010-8000-00aa00389b71");
    private static readonly Guid FloatSubFormat = new("00000003-0000-0010-8000-00aa00389b71");

    /// <summary>Format tags libavcodec decodes that we do not: MS ADPCM, A-law, µ-law, IMA ADPCM, GSM 6.10, MPEG layer 3.</summary>
    private static readonly HashSet<int> FfmpegTags = [0x0002, 0x0006, 0x0007, 0x0011, 0x0031, 0x0055];

    /// <summary>Null when the payload is a compressed codec the libav helper decodes.</summary>
    public static DecodedAudio? Decode(string path, Stream stream, DecodeOptions options)
    {
        WaveFormat format;
        long dataPosition, dataLength;
        try
        {
            // Not disposed: it would only dispose the stream, which the caller owns.
            var reader = new WaveFileReader(stream);
            format = reader.WaveFormat;
            dataPosition = stream.Position; // the reader leaves the stream at its first sample byte
            dataLength = reader.Length;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or EndOfStreamException or ArgumentException)
        {
            throw new AudioDecodeException(path, $"invalid WAV header: {e.Message.TrimEnd('.')}", e);
        }

        var encoding = EncodingOf(path, format);
        if (encoding is null) return null;
        PcmSamples.CheckFormat(path, "WAV", format.Channels, format.SampleRate, format.BitsPerSample, format.BlockAlign, encoding.Value);

        long available = stream.Length - dataPosition;
        if (!IsRf64(stream))
        {
            uint declared = DeclaredDataSize(stream, dataPosition);
            if (declared == uint.MaxValue || (declared == 0 && available > 0)) dataLength = available;
            else if (declared > available)
                throw new AudioDecodeException(path, $"truncated WAV: header declares {declared} data bytes but the file has {available}");
        }
        else if (dataLength > available)
            throw new AudioDecodeException(path, $"truncated WAV: RF64 header declares {dataLength} data bytes but the file has {available}");

        stream.Position = dataPosition;
        return PcmSamples.ReadWindow(path, "WAV", stream, dataLength / format.BlockAlign, format.Channels, format.SampleRate,
            format.BitsPerSample, encoding.Value, options);
    }

    private static bool IsRf64(Stream stream)
    {
        Span<byte> id = stackalloc byte[4];
        stream.Position = 0;
        stream.ReadExactly(id);
        return id.SequenceEqual("RF64"u8);
    }

    /// <summary>The data chunk's own size field, the 4 bytes before its first sample byte (NAudio reports it clamped).</summary>
    private static uint DeclaredDataSize(Stream stream, long dataPosition)
    {
        Span<byte> size = stackalloc byte[4];
        stream.Position = dataPosition - 4;
        stream.ReadExactly(size);
        return BinaryPrimitives.ReadUInt32LittleEndian(size);
    }

    private static PcmEncoding? EncodingOf(string path, WaveFormat format)
    {
        int tag = (int)format.Encoding;
        if (tag == 0xFFFE)
        {
            // WAVE_FORMAT_EXTENSIBLE: NAudio keeps the 22 extension bytes raw (valid bits, channel mask, sub-format GUID).
            if (format is not WaveFormatExtraData { ExtraSize: >= 22 } extra)
                throw new AudioDecodeException(path, "absurd WAV header: WAVE_FORMAT_EXTENSIBLE without a sub-format");
            var subFormat = new Guid(extra.ExtraData.AsSpan(6, 16));
            if (subFormat == PcmSubFormat) return PcmEncoding.Integer;
            if (subFormat == FloatSubFormat) return PcmEncoding.Float;
            throw new AudioDecodeException(path, $"unsupported codec: WAVE_FORMAT_EXTENSIBLE sub-format {subFormat}");
        }
        if (tag == 0x0001) return PcmEncoding.Integer;
        if (tag == 0x0003) return PcmEncoding.Float;
        if (FfmpegTags.Contains(tag)) return null;
        throw new AudioDecodeException(path, $"unsupported codec: WAV format tag 0x{tag:X4}");
    }
}
