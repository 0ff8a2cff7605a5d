using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// Every format the in-process decoders above do not cover (M4A/AAC, ALAC, WMA, AC-3, MP4/MKV/WebM audio tracks,
/// ADPCM WAV, compressed AIFF-C …) through Debian's libavformat/libavcodec, in the process: a small C shim
/// (Native/av_decode.c, compiled against the installed headers at build time) decodes the first audio stream to float
/// at its own rate and channels. This replaced one ffmpeg process per clip for these formats. Null when the shim or
/// the libraries cannot be loaded (a build machine without libavformat-dev): the caller then runs the ffmpeg executable.
/// </summary>
internal static unsafe class AvDecoder
{
    const string Library = "libactortraining_avdecode.so";
    const int Ok = 0, NotMedia = 1, NoAudio = 2;

    [StructLayout(LayoutKind.Sequential)]
    struct Decoded
    {
        public float* Samples;
        public long Frames;
        public int Channels;
        public int SampleRate;
    }

    static readonly Lazy<bool> Available = new(() =>
        NativeLibrary.TryLoad(Library, typeof(AvDecoder).Assembly, DllImportSearchPath.AssemblyDirectory, out _));

    /// <summary>Set by tests only: behave as if the shim were missing.</summary>
    internal static bool Disabled { get; set; }

    /// <summary>Whether this process decodes the remaining formats itself (false: one ffmpeg process per clip).</summary>
    public static bool InProcess => !Disabled && Available.Value;

    public static DecodedAudio? Decode(string path, DecodeOptions options)
    {
        if (!InProcess) return null;
        Decoded decoded;
        var error = new byte[512];
        int status;
        fixed (byte* e = error)
            status = at_av_decode(path, options.StartSeconds, options.MaxSeconds ?? 0, &decoded, e, error.Length);
        if (status != Ok)
        {
            var reason = System.Text.Encoding.UTF8.GetString(error, 0, Array.IndexOf(error, (byte)0) is var n and >= 0 ? n : error.Length);
            throw new AudioDecodeException(path, status is NotMedia or NoAudio ? reason : $"corrupt or unreadable audio: {reason}");
        }
        try
        {
            if (decoded.Frames == 0) return new DecodedAudio([], 1, Math.Max(decoded.SampleRate, 1000));
            var samples = new ReadOnlySpan<float>(decoded.Samples, checked((int)(decoded.Frames * decoded.Channels))).ToArray();
            return new DecodedAudio(samples, decoded.Channels, decoded.SampleRate);
        }
        finally { at_av_free(decoded.Samples); }
    }

    [DllImport(Library)] static extern int at_av_decode([MarshalAs(UnmanagedType.LPUTF8Str)] string path, double startSeconds, double maxSeconds,
        Decoded* output, byte* error, int errorSize);
    [DllImport(Library)] static extern void at_av_free(float* samples);
}
