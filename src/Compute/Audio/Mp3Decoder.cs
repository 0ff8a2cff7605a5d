using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// MP3 (MPEG 1/2/2.5 layer I–III) in the process through Debian's libmpg123 (libmpg123-0, which libsndfile and
/// libopenmpt — hence ffmpeg and sox — depend on; scripts/ensure-machine checks it). It replaced the managed NLayer
/// decoder, which ran at 0.48× torchaudio.load per core (BENCHMARKS.md (i)). Gapless as ffmpeg decodes: libmpg123
/// reads the Xing/Info frame's LAME tag and cuts the encoder delay, its own decoder delay and the end padding; a
/// stream without the tag is decoded whole. Float output at the stream's own rate and channels. Decodes only what the
/// options ask for: a sample-accurate seek to the start, and it stops once the maximum length is in.
/// Null when libmpg123 cannot be loaded: the caller falls back to ffmpeg.
/// </summary>
public static unsafe class Mp3Decoder
{
    const string Library = "libmpg123.so.0";
    const int Ok = 0, Done = -12, NewFormat = -11;
    const int AddFlags = 2;                                        // mpg123_parms MPG123_ADD_FLAGS
    const int Quiet = 0x20, Gapless = 0x40, ForceFloat = 0x400;    // MPG123_QUIET | MPG123_GAPLESS | MPG123_FORCE_FLOAT
    const int EncodingFloat32 = 0x200, EncodingFloat64 = 0x400;    // MPG123_ENC_FLOAT_32 / _64

    // mpg123_init is required before libmpg123 1.27 and a no-op after it.
    static readonly Lazy<bool> Available = new(() =>
        NativeLibrary.TryLoad(Library, typeof(Mp3Decoder).Assembly, null, out _) && mpg123_init() == Ok);

    public static DecodedAudio? Decode(string path, DecodeOptions options)
    {
        if (!Available.Value) return null;
        int error;
        var handle = mpg123_new(null, &error);
        if (handle == IntPtr.Zero) throw new OutOfMemoryException($"libmpg123 could not make a decoder (error {error})");
        try
        {
            Check(path, handle, mpg123_param2(handle, AddFlags, Quiet | Gapless | ForceFloat, 0), "cannot set up the decoder");
            Check(path, handle, mpg123_open(handle, path), "cannot open it");
            long rate;
            int channels, encoding;
            Check(path, handle, mpg123_getformat(handle, &rate, &channels, &encoding), "corrupt MP3");
            if (channels is < 1 or > 2) throw new AudioDecodeException(path, $"absurd MP3 header: {channels} channels");
            if (rate is < 1000 or > 768_000) throw new AudioDecodeException(path, $"absurd MP3 header: sample rate {rate} Hz");
            if (encoding is not (EncodingFloat32 or EncodingFloat64))
                throw new AudioDecodeException(path, $"libmpg123 gives encoding 0x{encoding:x}, not float");
            int sampleBytes = encoding == EncodingFloat32 ? 4 : 8;
            long start = (long)Math.Round(options.StartSeconds * rate);
            if (start > 0 && mpg123_seek(handle, start, 0 /* SEEK_SET */) < 0)
                return new DecodedAudio([], channels, (int)rate); // past the end
            long limit = options.MaxSeconds is { } max ? (long)Math.Ceiling(max * rate) * channels : long.MaxValue;

            var samples = new float[(int)Math.Min(limit, 1L << 20)];
            long count = 0;
            var buffer = new byte[65536];
            fixed (byte* b = buffer)
            {
                while (count < limit)
                {
                    nuint done;
                    int status = mpg123_read(handle, b, (nuint)buffer.Length, &done);
                    int take = (int)Math.Min((long)done / sampleBytes, limit - count);
                    if (count + take > samples.Length)
                    {
                        if (count + take > Array.MaxLength) throw new AudioDecodeException(path, "MP3 too long to decode at once; use a max duration");
                        Array.Resize(ref samples, (int)Math.Min(Array.MaxLength, Math.Max(count + take, 2L * samples.Length)));
                    }
                    if (sampleBytes == 4) new ReadOnlySpan<float>(b, take).CopyTo(samples.AsSpan((int)count));
                    else for (int i = 0; i < take; i++) samples[count + i] = (float)((double*)b)[i];
                    count += take;
                    if (status == Done) break;
                    if (status == NewFormat)
                    {
                        long newRate;
                        int newChannels, newEncoding;
                        Check(path, handle, mpg123_getformat(handle, &newRate, &newChannels, &newEncoding), "corrupt MP3");
                        if (newRate != rate || newChannels != channels || newEncoding != encoding)
                            throw new AudioDecodeException(path, $"MP3 changes format mid-stream ({rate} Hz × {channels} → {newRate} Hz × {newChannels})");
                        continue;
                    }
                    Check(path, handle, status, "corrupt MP3");
                }
            }
            return new DecodedAudio(samples[..(int)(count - count % channels)], channels, (int)rate);
        }
        finally
        {
            mpg123_close(handle);
            mpg123_delete(handle);
        }
    }

    static void Check(string path, IntPtr handle, int status, string what)
    {
        if (status == Ok) return;
        var reason = Marshal.PtrToStringUTF8(mpg123_strerror(handle)) ?? $"error {status}";
        throw new AudioDecodeException(path, $"{what}: libmpg123: {reason}");
    }

    [DllImport(Library)] static extern int mpg123_init();
    [DllImport(Library)] static extern IntPtr mpg123_new(byte* decoder, int* error);
    [DllImport(Library)] static extern void mpg123_delete(IntPtr handle);
    [DllImport(Library)] static extern int mpg123_param2(IntPtr handle, int type, long value, double fvalue);
    [DllImport(Library)] static extern int mpg123_open(IntPtr handle, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);
    [DllImport(Library)] static extern int mpg123_close(IntPtr handle);
    [DllImport(Library)] static extern int mpg123_getformat(IntPtr handle, long* rate, int* channels, int* encoding);
    [DllImport(Library)] static extern long mpg123_seek(IntPtr handle, long offset, int whence);
    [DllImport(Library)] static extern int mpg123_read(IntPtr handle, byte* output, nuint size, nuint* done);
    [DllImport(Library)] static extern IntPtr mpg123_strerror(IntPtr handle);
}
