using System.Buffers.Binary;
using Concentus;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// Ogg Opus (RFC 7845) in the process: the Ogg packets (<see cref="OggPackets"/>) through the system's libopus
/// (<see cref="LibOpus"/>, the reference decoder: our samples are those of ffmpeg's `libopus` decoder, bit for bit) at
/// 48 kHz, gapless as ffmpeg decodes it: the header's pre-skip is dropped at the start, the samples past the last page's
/// granule position at the end, and the header's output gain applied. Mapping family 0 (mono, stereo) and the
/// multistream families (1: up to 8 channels, 255). A start offset seeks by page granule positions with the 80 ms
/// pre-roll RFC 7845 §4.6 asks for, so a window of a long recording decodes only its own pages and the pre-roll.
/// Without libopus, Concentus' managed port of an older libopus decodes the packets: within 3e-4 (relative) of
/// libopus at 96 kbit/s, about 5 % at 16 kbit/s (measured, OpusDecoderTests). Chained files (a second Opus stream
/// after the first) are left to the libav helper.
/// </summary>
internal static class OpusDecoder
{
    /// <summary>Set by tests only: decode with Concentus even where libopus is installed.</summary>
    internal static bool ManagedOnly { get; set; }

    /// <summary>What decodes Opus in this process: "libopus 1.3.1", or Concentus' managed version.</summary>
    public static string Implementation => (ManagedOnly ? null : LibOpus.Version) ?? OpusCodecFactory.CreateDecoder(Rate, 1).GetVersionString();

    private const int Rate = 48000;
    private const int MaxFrame = 5760; // 120 ms at 48 kHz, the longest Opus packet
    private const int PreRoll = 3840;  // 80 ms

    /// <summary>OpusHead: channels, pre-skip, output gain as a factor, and the stream layout (family 0 as one stream of one or two channels).</summary>
    private sealed record Head(int Channels, int PreSkip, float Gain, int Streams, int Coupled, byte[] Mapping);

    /// <summary>Null for a chained file (the libav helper decodes those).</summary>
    public static DecodedAudio? Decode(string path, Stream stream, DecodeOptions options)
    {
        try { return DecodeStream(path, stream, options); }
        catch (AudioDecodeException) { throw; }
        catch (EndOfStreamException e) { throw new AudioDecodeException(path, "truncated Ogg Opus", e); }
        catch (Exception e) when (e is OpusException or InvalidDataException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new AudioDecodeException(path, $"corrupt Ogg Opus: {e.Message}", e);
        }
    }

    private static DecodedAudio? DecodeStream(string path, Stream stream, DecodeOptions options)
    {
        var packets = new OggPackets(path, stream);
        if (!packets.TryNext(out var first)) throw new AudioDecodeException(path, "no Ogg packets");
        var head = ReadHead(path, first.Data);
        if (!packets.TryNext(out var tags) || !tags.Data.AsSpan().StartsWith("OpusTags"u8))
            throw new AudioDecodeException(path, "corrupt Ogg Opus: no OpusTags packet after OpusHead");

        // Wanted window in granule units (48 kHz, pre-skip included).
        long from = head.PreSkip + (long)Math.Round(options.StartSeconds * Rate);
        long to = options.MaxSeconds is { } max ? from + (long)Math.Ceiling(max * Rate) : long.MaxValue;
        if (options.StartSeconds > 0) packets.SeekBefore(from - PreRoll);

        using var native = ManagedOnly ? null : LibOpus.Create(Rate, head.Channels, head.Streams, head.Coupled, head.Mapping);
        using var managed = native is null ? OpusCodecFactory.CreateMultiStreamDecoder(Rate, head.Channels, head.Streams, head.Coupled, head.Mapping) : null;
        Func<byte[], float[], int> decode = native is not null
            ? (packet, pcm) => native.Decode(packet, pcm, MaxFrame)
            : (packet, pcm) => managed!.DecodeMultistream(packet, pcm, MaxFrame, false);
        var decoded = new List<float[]>();
        long decodedFrames = 0, lastGranule = -1;
        long? startGranule = null; // granule position of the first decoded frame, known at the first page end
        var frame = new float[MaxFrame * head.Channels];
        while (packets.TryNext(out var packet))
        {
            if (packet.Data.Length == 0) continue;
            int n = decode(packet.Data, frame);
            decoded.Add(frame[..(n * head.Channels)]);
            decodedFrames += n;
            if (packet.Granule >= 0)
            {
                startGranule ??= packet.Granule - decodedFrames;
                lastGranule = packet.Granule;
                if (startGranule + decodedFrames >= to) break;
            }
        }
        if (packets.Ended && packets.ChainFollows) return null;
        if (startGranule is null) throw new AudioDecodeException(path, "truncated Ogg Opus: no page with a granule position");

        // Keep granules [from, to), and nothing past the last page's granule position (the end trimming).
        long end = Math.Min(to, packets.Ended ? lastGranule : startGranule.Value + decodedFrames);
        long skip = Math.Max(0, from - startGranule.Value);
        long keep = Math.Max(0, Math.Min(decodedFrames, end - startGranule.Value) - skip);
        if (keep * head.Channels > Array.MaxLength) throw new AudioDecodeException(path, "Ogg Opus too long to decode at once; use a max duration");
        var samples = new float[keep * head.Channels];
        long pos = 0, frameAt = 0;
        foreach (var chunk in decoded)
        {
            long frames = chunk.Length / head.Channels;
            long a = Math.Max(skip, frameAt), b = Math.Min(skip + keep, frameAt + frames);
            if (b > a)
            {
                var src = chunk.AsSpan((int)((a - frameAt) * head.Channels), (int)((b - a) * head.Channels));
                for (int i = 0; i < src.Length; i++) samples[pos + i] = src[i] * head.Gain;
                pos += src.Length;
            }
            frameAt += frames;
        }
        return new DecodedAudio(samples, head.Channels, Rate);
    }

    private static Head ReadHead(string path, byte[] p)
    {
        if (p.Length < 19 || !p.AsSpan().StartsWith("OpusHead"u8)) throw new AudioDecodeException(path, "corrupt Ogg Opus: no OpusHead packet");
        if (p[8] >> 4 != 0) throw new AudioDecodeException(path, $"unsupported Ogg Opus version {p[8]}");
        int channels = p[9], preSkip = BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(10));
        float gain = (float)Math.Pow(10, BinaryPrimitives.ReadInt16LittleEndian(p.AsSpan(16)) / (20.0 * 256));
        int family = p[18];
        if (channels < 1) throw new AudioDecodeException(path, "absurd Ogg Opus header: 0 channels");
        if (family == 0)
        {
            if (channels > 2) throw new AudioDecodeException(path, $"absurd Ogg Opus header: {channels} channels with mapping family 0");
            return new Head(channels, preSkip, gain, 1, channels - 1, channels == 1 ? [0] : [0, 1]);
        }
        if (p.Length < 21 + channels) throw new AudioDecodeException(path, "corrupt Ogg Opus: channel mapping table cut short");
        int streams = p[19], coupled = p[20];
        if (streams < 1 || coupled > streams) throw new AudioDecodeException(path, $"absurd Ogg Opus header: {streams} streams, {coupled} coupled");
        return new Head(channels, preSkip, gain, streams, coupled, p[21..(21 + channels)]);
    }
}
