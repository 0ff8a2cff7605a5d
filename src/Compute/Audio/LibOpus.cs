using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// The reference Opus decoder, Debian's libopus0 (which ffmpeg links), through P/Invoke — as libmpg123 and libFLAC are
/// used for MP3 and FLAC. One multistream decoder serves every channel mapping (family 0 is one stream of one or two
/// channels). <see cref="Create"/> gives null when the library cannot be loaded; <see cref="OpusDecoder"/> then uses
/// Concentus' managed port. (Concentus can P/Invoke libopus itself, but it looks for the unversioned libopus.so only the
/// -dev package installs.)
/// </summary>
internal sealed unsafe class LibOpus : IDisposable
{
    const string Library = "libopus.so.0";
    static readonly Lazy<bool> Available = new(() => NativeLibrary.TryLoad(Library, typeof(LibOpus).Assembly, null, out _));

    IntPtr _decoder;

    LibOpus(IntPtr decoder) => _decoder = decoder;

    /// <summary>"libopus 1.3.1", or null when the library is missing.</summary>
    public static string? Version => Available.Value ? Marshal.PtrToStringAnsi(opus_get_version_string()) : null;

    public static LibOpus? Create(int sampleRate, int channels, int streams, int coupledStreams, byte[] mapping)
    {
        if (!Available.Value) return null;
        int error;
        IntPtr decoder;
        fixed (byte* m = mapping) decoder = opus_multistream_decoder_create(sampleRate, channels, streams, coupledStreams, m, &error);
        if (decoder == IntPtr.Zero) throw new InvalidDataException($"libopus refuses the stream layout ({channels} channels, {streams} streams, {coupledStreams} coupled): {Message(error)}");
        return new LibOpus(decoder);
    }

    /// <summary>Decodes one packet into <paramref name="pcm"/> (interleaved); returns the frames decoded.</summary>
    public int Decode(byte[] packet, float[] pcm, int maxFrames)
    {
        int frames;
        fixed (byte* p = packet) fixed (float* o = pcm) frames = opus_multistream_decode_float(_decoder, p, packet.Length, o, maxFrames, 0);
        if (frames < 0) throw new InvalidDataException($"libopus: {Message(frames)}");
        return frames;
    }

    public void Dispose()
    {
        if (_decoder == IntPtr.Zero) return;
        opus_multistream_decoder_destroy(_decoder);
        _decoder = IntPtr.Zero;
    }

    static string Message(int error) => Marshal.PtrToStringAnsi(opus_strerror(error)) ?? $"error {error}";

    [DllImport(Library)] static extern IntPtr opus_get_version_string();
    [DllImport(Library)] static extern IntPtr opus_strerror(int error);
    [DllImport(Library)] static extern IntPtr opus_multistream_decoder_create(int fs, int channels, int streams, int coupledStreams, byte* mapping, int* error);
    [DllImport(Library)] static extern int opus_multistream_decode_float(IntPtr decoder, byte* data, int length, float* pcm, int frameSize, int decodeFec);
    [DllImport(Library)] static extern void opus_multistream_decoder_destroy(IntPtr decoder);
}
