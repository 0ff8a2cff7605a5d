using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// Every format the decoders in this process do not cover (M4A/AAC, ALAC, WMA, AC-3, MP4/MKV/WebM audio tracks, ADPCM
/// WAV, compressed AIFF-C …) through Debian's libavformat/libavcodec, in long-lived helper processes
/// (actortraining-avdecode, Native/av_decode_server.c, built with the project): a clip costs a request on a pipe, not
/// a process start as the ffmpeg executable did, and a decoder that crashes or hangs on one bad file costs that clip
/// and a new helper, never the trainer's process. Idle helpers wait in a pool, one per decode running at once (the clip
/// workers); they end with this process (their stdin closes). Output: float at the stream's own rate and channels.
/// Null when the helper was not built (no libavformat-dev on the build machine): the caller runs the ffmpeg executable.
/// </summary>
public static class AvDecoder
{
    const string Program = "actortraining-avdecode";
    const int Ok = 0, NotMedia = 1, NoAudio = 2;

    static readonly ConcurrentBag<Helper> Idle = [];
    static readonly string ProgramPath = Path.Combine(AppContext.BaseDirectory, Program);

    /// <summary>Set by tests only: behave as if the helper had not been built.</summary>
    internal static bool Disabled { get; set; }

    /// <summary>How long one clip may take before its helper is killed (a decoder stuck on a bad file).</summary>
    internal static TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether the remaining formats are decoded by the helper (false: one ffmpeg process per clip).</summary>
    public static bool HelperBuilt => !Disabled && File.Exists(ProgramPath);

    public static DecodedAudio? Decode(string path, DecodeOptions options)
    {
        if (!HelperBuilt) return null;
        Helper? helper;
        while (Idle.TryTake(out helper) && helper.Process.HasExited) helper.Dispose(); // killed while idle
        if (helper is null)
        {
            try { helper = Helper.Start(); }
            catch (IOException e) { throw new AudioDecodeException(path, $"needs the libav decoder process, but {e.Message}", e); }
        }
        bool reusable = false;
        try
        {
            var (audio, error) = helper.Decode(path, options);
            reusable = true;
            return audio ?? throw new AudioDecodeException(path, error!);
        }
        catch (IOException e) // the helper died inside this request (a crash in libav on this file) or was killed
        {
            throw new AudioDecodeException(path, $"the libav decoder process ended while decoding it ({helper.Describe()})", e);
        }
        catch (OperationCanceledException e)
        {
            throw new AudioDecodeException(path, $"the libav decoder took more than {Timeout.TotalSeconds:0} s on it and was stopped", e);
        }
        finally
        {
            if (reusable) Idle.Add(helper);
            else helper.Dispose();
        }
    }

    sealed class Helper : IDisposable
    {
        public Process Process { get; }
        readonly Stream _in, _out;

        Helper(Process process)
        {
            Process = process;
            _in = process.StandardInput.BaseStream;
            _out = process.StandardOutput.BaseStream;
        }

        public static Helper Start()
        {
            var psi = new ProcessStartInfo(ProgramPath)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            try
            {
                var process = Process.Start(psi) ?? throw new Win32Exception("Process.Start returned null");
                process.ErrorDataReceived += (_, _) => { }; // av_log is silenced; drain whatever else comes
                process.BeginErrorReadLine();
                return new Helper(process);
            }
            catch (Win32Exception e)
            {
                throw new IOException($"{ProgramPath} could not be started ({e.Message})", e);
            }
        }

        /// <summary>The decoded audio, or null and the helper's reason. IOException when the helper is gone, OperationCanceledException on timeout.</summary>
        public (DecodedAudio? Audio, string? Error) Decode(string path, DecodeOptions options)
        {
            var pathBytes = Encoding.UTF8.GetBytes(path);
            var request = new byte[20 + pathBytes.Length];
            BinaryPrimitives.WriteInt32LittleEndian(request, pathBytes.Length);
            BinaryPrimitives.WriteDoubleLittleEndian(request.AsSpan(4), options.StartSeconds);
            BinaryPrimitives.WriteDoubleLittleEndian(request.AsSpan(12), options.MaxSeconds ?? 0);
            pathBytes.CopyTo(request, 20);
            using var timeout = new CancellationTokenSource(Timeout);
            using var kill = timeout.Token.Register(() => { try { Process.Kill(); } catch (InvalidOperationException) { } });
            _in.Write(request);
            _in.Flush();
            int status = ReadInt32();
            if (status != Ok)
            {
                var message = Encoding.UTF8.GetString(ReadExactly(ReadInt32()));
                return (null, status is NotMedia or NoAudio ? message : $"corrupt or unreadable audio: {message}");
            }
            int channels = ReadInt32(), rate = ReadInt32();
            long frames = BinaryPrimitives.ReadInt64LittleEndian(ReadExactly(8));
            if (frames == 0) return (new DecodedAudio([], 1, Math.Max(rate, 1000)), null);
            if (frames * channels > Array.MaxLength / 4) throw new IOException($"the helper announced {frames} frames × {channels} channels");
            var samples = new float[frames * channels];
            ReadInto(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()), timeout.Token);
            return (new DecodedAudio(samples, channels, rate), null);

            int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadExactly(4));
            byte[] ReadExactly(int n)
            {
                var bytes = new byte[n];
                ReadInto(bytes, timeout.Token);
                return bytes;
            }
        }

        void ReadInto(Span<byte> buffer, CancellationToken token)
        {
            try { _out.ReadExactly(buffer); }
            catch (EndOfStreamException e)
            {
                token.ThrowIfCancellationRequested(); // killed by the timeout
                throw new IOException("the helper's output ended", e);
            }
        }

        public string Describe()
        {
            try { return Process.WaitForExit(1000) ? $"exit code {Process.ExitCode}" : "still running"; }
            catch (InvalidOperationException) { return "not started"; }
        }

        public void Dispose()
        {
            try { if (!Process.HasExited) Process.Kill(); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }
}
