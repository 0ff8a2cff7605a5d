using System.Buffers.Binary;
using NAudio.Wave;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// AIFF and uncompressed AIFF-C: big-endian PCM 8/16/24/32-bit, any channel count. NAudio.Core's AiffFileReader
/// reads the chunks and swaps the bytes; a FORM that runs past the end of the file is named "truncated" here (NAudio
/// stops at a chunk that does not fit and would report its absence instead). Compressed AIFF-C payloads
/// (sowt, fl32, µ-law…) go to the libav helper.
/// </summary>
internal static class AiffDecoder
{
    /// <summary>Null when the file is AIFF-C with a compression NAudio does not read: the libav helper decodes those.</summary>
    public static DecodedAudio? Decode(string path, Stream stream, DecodeOptions options)
    {
        Span<byte> head = stackalloc byte[12];
        stream.Position = 0;
        stream.ReadExactly(head);
        long declared = 8L + BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        bool aifc = head[8..12].SequenceEqual("AIFC"u8);
        if (declared > stream.Length)
            throw new AudioDecodeException(path, $"truncated AIFF: header declares {declared} bytes but the file has {stream.Length}");
        stream.Position = 0;

        AiffFileReader reader;
        try { reader = new AiffFileReader(stream); } // not disposed: it would only dispose the caller's stream
        catch (FormatException) when (aifc) { return null; }
        catch (Exception e) when (e is FormatException or InvalidDataException or EndOfStreamException or ArgumentException or OverflowException)
        {
            throw new AudioDecodeException(path, $"invalid AIFF header: {e.Message.TrimEnd('.')}", e);
        }
        var format = reader.WaveFormat;
        PcmSamples.CheckFormat(path, "AIFF", format.Channels, format.SampleRate, format.BitsPerSample, format.BlockAlign, PcmEncoding.Integer);
        return PcmSamples.ReadWindow(path, "AIFF", reader, reader.Length / format.BlockAlign, format.Channels, format.SampleRate,
            format.BitsPerSample, PcmEncoding.Integer, options);
    }
}
