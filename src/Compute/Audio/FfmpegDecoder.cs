using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace ActorTraining.Compute.Audio;

/// <summary>
/// The fallback where the libav helper process (<see cref="AvDecoder"/>) was not built: what the
/// format decoders do not cover (M4A/AAC, MP4/MKV/WebM audio tracks, ADPCM WAV …, and MP3/FLAC when libmpg123/libFLAC
/// cannot be loaded) through the `ffmpeg` executable, one process per clip: it seeks (-ss before -i, so long files are not decoded from the start), takes the first
/// audio stream, resamples to the target rate and streams float32 WAV on stdout. Channels are kept and averaged
/// by us, because ffmpeg's own downmix is not a plain average (it weights centre/surround and drops LFE).
/// Resampler: SoX's (soxr, `aresample=resampler=soxr`, high quality band-limited) when this ffmpeg was built with
/// libsoxr, which Debian's is; otherwise libswresample's default windowed-sinc.
/// </summary>
public static class FfmpegDecoder
{
    /// <summary>Environment variable naming the ffmpeg to run (default: `ffmpeg` on PATH).</summary>
    public const string ExecutableVariable = "ACTORTRAINING_FFMPEG";

    public static string Executable =>
        Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } custom ? custom : "ffmpeg";

    private static readonly ConcurrentDictionary<string, bool> SoxrByExecutable = new();

    private static bool HasSoxr => SoxrByExecutable.GetOrAdd(Executable, static exe =>
    {
        try
        {
            var psi = new ProcessStartInfo(exe, "-hide_banner -buildconf") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var errTask = p.StandardError.ReadToEndAsync();
            var text = p.StandardOutput.ReadToEnd() + errTask.Result;
            p.WaitForExit();
            return text.Contains("--enable-libsoxr", StringComparison.Ordinal);
        }
        catch (Exception) { return false; }
    });

    /// <summary>Which resampler ffmpeg runs here ("soxr" or "swr"), for logs and benchmark reports.</summary>
    public static string Resampler => HasSoxr ? "soxr" : "swr";

    internal static DecodedAudio Decode(string path, DecodeOptions options)
    {
        var executable = Executable;
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = false, UseShellExecute = false,
        };
        foreach (var a in Arguments(path, options)) psi.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(psi) ?? throw new Win32Exception("Process.Start returned null"); }
        catch (Win32Exception e)
        {
            throw new AudioDecodeException(path, $"needs ffmpeg to decode this format, but '{executable}' could not be started ({e.Message}); install the Debian package ffmpeg", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            DecodedAudio? audio = null;
            Exception? parseError = null;
            try { audio = ReadWavStream(process.StandardOutput.BaseStream); }
            catch (Exception e) { parseError = e; }
            process.WaitForExit();
            var errorText = stderr.Result.Trim();
            if (process.ExitCode != 0 || parseError is not null)
                throw new AudioDecodeException(path, Explain(errorText, process.ExitCode, parseError), parseError);
            return audio!;
        }
    }

    private static IEnumerable<string> Arguments(string path, DecodeOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        yield return "-nostdin"; yield return "-hide_banner";
        yield return "-v"; yield return "error";
        yield return "-xerror"; // a corrupt packet ends the decode with an error instead of a silent gap
        if (o.StartSeconds > 0) { yield return "-ss"; yield return o.StartSeconds.ToString("R", inv); }
        if (o.MaxSeconds is { } max) { yield return "-t"; yield return max.ToString("R", inv); }
        yield return "-i"; yield return path;
        yield return "-map"; yield return "0:a:0";
        if (HasSoxr) { yield return "-af"; yield return "aresample=resampler=soxr"; }
        yield return "-ar"; yield return o.SampleRate.ToString(inv);
        yield return "-c:a"; yield return "pcm_f32le";
        yield return "-f"; yield return "wav";
        yield return "pipe:1";
    }

    private static string Explain(string stderr, int exitCode, Exception? parseError)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Any(l => l.Contains("matches no streams", StringComparison.Ordinal)))
            return "no audio stream in this file";
        var last = lines.LastOrDefault(l => l.Length > 0);
        // Nothing came out before ffmpeg gave up: it could not open the input as any format it knows.
        if (parseError is EndOfStreamException && last is not null)
            return $"not a recognised audio format (ffmpeg: {last})";
        if (last is not null) return $"ffmpeg failed (exit {exitCode}): {last}";
        return parseError is not null ? $"unreadable ffmpeg output: {parseError.Message}" : $"ffmpeg failed (exit {exitCode})";
    }

    /// <summary>Parses ffmpeg's streamed WAV (sizes may be 0xFFFFFFFF since the pipe is not seekable): fmt, then data to EOF.</summary>
    private static DecodedAudio ReadWavStream(Stream s)
    {
        Span<byte> head = stackalloc byte[12];
        s.ReadExactly(head);
        if (!head[..4].SequenceEqual("RIFF"u8) || !head.Slice(8, 4).SequenceEqual("WAVE"u8))
            throw new InvalidDataException("ffmpeg did not write a WAV stream");
        int channels = 0, rate = 0;
        Span<byte> chunk = stackalloc byte[8];
        while (true)
        {
            s.ReadExactly(chunk);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("fmt "u8))
            {
                var fmt = new byte[size];
                s.ReadExactly(fmt);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt.AsSpan(2));
                rate = BinaryPrimitives.ReadInt32LittleEndian(fmt.AsSpan(4));
                int bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt.AsSpan(14));
                if (bits != 32) throw new InvalidDataException($"expected 32-bit float from ffmpeg, got {bits}-bit");
            }
            else if (chunk[..4].SequenceEqual("data"u8))
            {
                if (channels == 0) throw new InvalidDataException("ffmpeg WAV stream has data before fmt");
                var ms = new MemoryStream();
                s.CopyTo(ms);
                var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
                var samples = new float[bytes.Length / 4 / channels * channels];
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                return new DecodedAudio(samples, channels, rate);
            }
            else
            {
                var skip = new byte[size + (size & 1)];
                s.ReadExactly(skip);
            }
        }
    }
}
