using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// FLAC in the process through Debian's libFLAC (libflac12, the reference decoder; it comes with ffmpeg and sox and
/// scripts/ensure-machine checks it), instead of an ffmpeg process per clip. Decodes only what the options ask for:
/// seeks to the start (libFLAC trims the frame it lands in) and stops once the maximum length is in. Integer samples
/// scale to [-1, 1) by 2^(bits−1), as ffmpeg's conversion to float does. A stream that ends before the sample count
/// its STREAMINFO states, or that libFLAC reports an error in (lost sync, bad header, CRC mismatch), is corrupt.
/// Null when libFLAC cannot be loaded: the caller falls back to ffmpeg.
/// </summary>
public static unsafe class FlacDecoder
{
    const string Library = "libFLAC.so.12";
    static readonly Lazy<bool> Available = new(() => NativeLibrary.TryLoad(Library, typeof(FlacDecoder).Assembly, null, out _));

    public static DecodedAudio? Decode(string path, DecodeOptions options)
    {
        if (!Available.Value) return null;
        var decoder = FLAC__stream_decoder_new();
        if (decoder == IntPtr.Zero) throw new OutOfMemoryException("libFLAC could not allocate a decoder");
        var state = new State();
        var handle = GCHandle.Alloc(state);
        try
        {
            FLAC__stream_decoder_set_md5_checking(decoder, 0);
            int init = FLAC__stream_decoder_init_file(decoder, path, &Write, &Metadata, &Error, GCHandle.ToIntPtr(handle));
            if (init != 0) throw new AudioDecodeException(path, $"libFLAC cannot open it (init status {init})");
            if (FLAC__stream_decoder_process_until_end_of_metadata(decoder) == 0 || state.SampleRate == 0)
                throw new AudioDecodeException(path, $"corrupt FLAC: {state.Problem ?? "no STREAMINFO"}");
            if (state.Channels is < 1 or > 8) throw new AudioDecodeException(path, $"absurd FLAC header: {state.Channels} channels");
            long start = (long)Math.Round(options.StartSeconds * state.SampleRate);
            if (start > 0)
            {
                if (state.TotalSamples > 0 && start >= state.TotalSamples) return new DecodedAudio([], state.Channels, state.SampleRate);
                if (FLAC__stream_decoder_seek_absolute(decoder, (ulong)start) == 0)
                    throw new AudioDecodeException(path, $"corrupt FLAC: cannot seek to {options.StartSeconds} s");
            }
            state.Limit = options.MaxSeconds is { } max ? (long)Math.Ceiling(max * state.SampleRate) : long.MaxValue;
            FLAC__stream_decoder_process_until_end_of_stream(decoder);
            if (state.Problem is not null) throw new AudioDecodeException(path, $"corrupt FLAC: {state.Problem}");
            long expected = state.TotalSamples > 0 ? state.TotalSamples - start : 0;
            if (state.Frames < Math.Min(expected, state.Limit))
                throw new AudioDecodeException(path, $"truncated FLAC: {state.Frames} of {expected} samples");
            return new DecodedAudio(state.Interleaved(), state.Channels, state.SampleRate);
        }
        finally
        {
            FLAC__stream_decoder_finish(decoder);
            FLAC__stream_decoder_delete(decoder);
            handle.Free();
        }
    }

    sealed class State
    {
        public int SampleRate, Channels;
        public long TotalSamples, Frames, Limit = long.MaxValue;
        public string? Problem;
        readonly List<float[]> _blocks = [];

        /// <summary>A frame of <see cref="Channels"/> channels (the write callback refuses any other).</summary>
        public void Add(int blocksize, int bits, int** buffer)
        {
            int take = (int)Math.Min(blocksize, Limit - Frames);
            var block = new float[take * Channels];
            float scale = 1f / (1L << (bits - 1));
            for (int c = 0; c < Channels; c++)
            {
                int* samples = buffer[c];
                for (int i = 0; i < take; i++) block[i * Channels + c] = samples[i] * scale;
            }
            _blocks.Add(block);
            Frames += take;
        }

        public float[] Interleaved()
        {
            var all = new float[Frames * Channels];
            long at = 0;
            foreach (var b in _blocks) { b.CopyTo(all, at); at += b.Length; }
            return all;
        }
    }

    static State Of(IntPtr client) => (State)GCHandle.FromIntPtr(client).Target!;

    // FLAC__Frame begins with its header: blocksize, sample_rate, channels, channel_assignment, bits_per_sample (uint32 each)
    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    static int Write(IntPtr decoder, uint* frame, int** buffer, IntPtr client)
    {
        var state = Of(client);
        if (frame[2] != state.Channels || frame[4] is < 4 or > 32) { state.Problem ??= $"a frame of {frame[2]} channels, {frame[4]} bits"; return 1; }
        state.Add((int)frame[0], (int)frame[4], buffer);
        return state.Frames >= state.Limit ? 1 : 0; // 1 = abort: the part asked for is in
    }

    // FLAC__StreamMetadata: type, is_last, length (uint32), then STREAMINFO at 16: min/max blocksize, min/max framesize,
    // sample_rate, channels, bits_per_sample (uint32), total_samples (uint64 at 48)
    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    static void Metadata(IntPtr decoder, byte* metadata, IntPtr client)
    {
        if (*(uint*)metadata != 0) return; // not STREAMINFO
        var state = Of(client);
        state.SampleRate = (int)*(uint*)(metadata + 32);
        state.Channels = (int)*(uint*)(metadata + 36);
        state.TotalSamples = (long)*(ulong*)(metadata + 48);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    static void Error(IntPtr decoder, int status, IntPtr client)
    {
        Of(client).Problem ??= status switch
        {
            0 => "lost sync", 1 => "bad frame header", 2 => "frame CRC mismatch", 3 => "unparseable stream",
            _ => $"decoder error {status}",
        };
    }

    [DllImport(Library)] static extern IntPtr FLAC__stream_decoder_new();
    [DllImport(Library)] static extern void FLAC__stream_decoder_delete(IntPtr decoder);
    [DllImport(Library)] static extern int FLAC__stream_decoder_set_md5_checking(IntPtr decoder, int value);
    [DllImport(Library)] static extern int FLAC__stream_decoder_init_file(IntPtr decoder, [MarshalAs(UnmanagedType.LPUTF8Str)] string filename,
        delegate* unmanaged[Cdecl]<IntPtr, uint*, int**, IntPtr, int> write, delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, void> metadata,
        delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, void> error, IntPtr client);
    [DllImport(Library)] static extern int FLAC__stream_decoder_process_until_end_of_metadata(IntPtr decoder);
    [DllImport(Library)] static extern int FLAC__stream_decoder_process_until_end_of_stream(IntPtr decoder);
    [DllImport(Library)] static extern int FLAC__stream_decoder_seek_absolute(IntPtr decoder, ulong sample);
    [DllImport(Library)] static extern int FLAC__stream_decoder_finish(IntPtr decoder);
}
