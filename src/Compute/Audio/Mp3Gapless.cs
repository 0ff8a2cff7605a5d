using System.Buffers.Binary;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// The encoder delay and padding an MP3's Xing/Info frame and its LAME extension state (written by LAME and by
/// ffmpeg's libmp3lame), so the decoded samples are the source's: the encoder's priming samples at the start, the
/// decoder's own delay of 529 samples and the padding of the last frame are cut, as ffmpeg does (mp3dec.c:
/// start_skip_samples = delay + 529, last sample = frames · samples-per-frame − padding + 529). Without such a frame
/// (bare frames) nothing is known and nothing is cut.
/// </summary>
internal sealed record Mp3Gapless(long Frames, int SamplesPerFrame, int EncoderDelay, int Padding)
{
    /// <summary>The MDCT overlap every layer III decoder delays its output by.</summary>
    public const int DecoderDelay = 529;

    /// <summary>Samples (per channel) the source had: what remains of the frames once the priming and the padding are cut.</summary>
    public long SourceSamples => Math.Max(0, Frames * SamplesPerFrame - EncoderDelay - Padding);

    /// <summary>Reads the tag of the stream's first frame (after an ID3v2 tag, however large); null without one. Leaves the stream at its start.</summary>
    public static Mp3Gapless? Read(Stream stream)
    {
        var id3 = new byte[10];
        long at = 0;
        if (stream.ReadAtLeast(id3, 10, throwOnEndOfStream: false) == 10 && id3.AsSpan(0, 3).SequenceEqual("ID3"u8))
            at = 10 + ((id3[6] & 0x7F) << 21 | (id3[7] & 0x7F) << 14 | (id3[8] & 0x7F) << 7 | (id3[9] & 0x7F)) + ((id3[5] & 0x10) != 0 ? 10 : 0);
        var frame = new byte[1024];
        int n = 0;
        if (at < stream.Length)
        {
            stream.Position = at;
            n = stream.ReadAtLeast(frame, frame.Length, throwOnEndOfStream: false);
        }
        stream.Position = 0;
        return Parse(frame.AsSpan(0, n));
    }

    static Mp3Gapless? Parse(ReadOnlySpan<byte> head)
    {
        if (head.Length < 4 || head[0] != 0xFF || (head[1] & 0xE0) != 0xE0) return null;
        int version = (head[1] >> 3) & 3;          // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
        int layer = (head[1] >> 1) & 3;            // 1 = layer III
        if (layer != 1 || version == 1) return null;
        bool mono = (head[3] >> 6) == 3;
        int sideInfo = version == 3 ? (mono ? 17 : 32) : (mono ? 9 : 17);
        int samplesPerFrame = version == 3 ? 1152 : 576;
        int tag = 4 + sideInfo;
        if (tag + 8 > head.Length) return null;
        var id = head.Slice(tag, 4);
        if (!id.SequenceEqual("Xing"u8) && !id.SequenceEqual("Info"u8)) return null;
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(head[(tag + 4)..]);
        int p = tag + 8;
        long frames = -1;
        if ((flags & 1) != 0) { if (p + 4 > head.Length) return null; frames = BinaryPrimitives.ReadUInt32BigEndian(head[p..]); p += 4; }
        if ((flags & 2) != 0) p += 4;   // byte count
        if ((flags & 4) != 0) p += 100; // seek table
        if ((flags & 8) != 0) p += 4;   // quality
        if (frames < 0 || p + 24 > head.Length) return null;
        var encoder = head.Slice(p, 4);
        if (!encoder.SequenceEqual("LAME"u8) && !encoder.SequenceEqual("Lavf"u8) && !encoder.SequenceEqual("Lavc"u8)) return null;
        int delay = head[p + 21] << 4 | head[p + 22] >> 4, padding = (head[p + 22] & 0x0F) << 8 | head[p + 23];
        return new Mp3Gapless(frames, samplesPerFrame, delay, padding);
    }
}
