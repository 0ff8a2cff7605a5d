namespace ActorTraining.Compute.Audio;

/// <summary>What a file is, judged from its first bytes (never from its extension).</summary>
public enum AudioContainer { Wav, Aiff, Mp3, OggVorbis, OggOpus, Flac, Other }

public static class AudioSniffer
{
    /// <summary>Bytes needed to recognise every container here (Ogg's first page carries the codec id).</summary>
    public const int HeaderBytes = 64;

    public static AudioContainer Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 12 && (head[..4].SequenceEqual("RIFF"u8) || head[..4].SequenceEqual("RF64"u8)) && head.Slice(8, 4).SequenceEqual("WAVE"u8))
            return AudioContainer.Wav;
        if (head.Length >= 12 && head[..4].SequenceEqual("FORM"u8) && (head.Slice(8, 4).SequenceEqual("AIFF"u8) || head.Slice(8, 4).SequenceEqual("AIFC"u8)))
            return AudioContainer.Aiff;
        if (head.Length >= 4 && head[..4].SequenceEqual("fLaC"u8)) return AudioContainer.Flac;
        if (head.Length >= 3 && head[..3].SequenceEqual("ID3"u8)) return AudioContainer.Mp3;
        if (head.Length >= 4 && head[..4].SequenceEqual("OggS"u8))
            return head.IndexOf("\u0001vorbis"u8) >= 0 ? AudioContainer.OggVorbis
                : head.IndexOf("OpusHead"u8) >= 0 ? AudioContainer.OggOpus
                : AudioContainer.Other; // FLAC-in-Ogg, Speex… go to the libav helper
        if (head.Length >= 4 && IsMpegAudioFrameHeader(head)) return AudioContainer.Mp3;
        return AudioContainer.Other;
    }

    /// <summary>
    /// A bare MPEG-1/2/2.5 layer III frame header (no ID3 tag): sync, valid version, layer III, bitrate and rate
    /// indices not reserved. Checked strictly so random bytes are rarely taken for MP3.
    /// </summary>
    private static bool IsMpegAudioFrameHeader(ReadOnlySpan<byte> h)
    {
        if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0) return false;
        int version = (h[1] >> 3) & 3, layer = (h[1] >> 1) & 3, bitrate = h[2] >> 4, rate = (h[2] >> 2) & 3;
        return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 && rate != 3;
    }
}
