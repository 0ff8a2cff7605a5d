using System.Buffers.Binary;
using System.Diagnostics;

namespace ActorTraining.Compute.Tests;

/// <summary>Test audio made on the spot: a WAV writer for any sample layout, and real ffmpeg/sox conversions.</summary>
public sealed class TestFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("actortraining-audio-").FullName;

    public string PathOf(string name) => System.IO.Path.Combine(Folder, name);

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>Deterministic test signal: two tones (per-channel frequencies differ) at amplitude 0.5 and 0.25.</summary>
    public static float[,] Tones(int sampleRate, double seconds, int channels)
    {
        int n = (int)Math.Round(sampleRate * seconds);
        var x = new float[channels, n];
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < n; i++)
            {
                double t = (double)i / sampleRate;
                x[c, i] = (float)(0.5 * Math.Sin(2 * Math.PI * (440 + 110 * c) * t) + 0.25 * Math.Sin(2 * Math.PI * 1250 * t));
            }
        return x;
    }

    /// <summary>Low-passed noise from a seed, per channel: no period, so a shift between two decodes shows as a large error.</summary>
    public static float[,] Noise(int sampleRate, double seconds, int channels, int seed)
    {
        var random = new Random(seed);
        int n = (int)(sampleRate * seconds);
        var x = new float[channels, n];
        for (int c = 0; c < channels; c++)
        {
            double previous = 0;
            for (int i = 0; i < n; i++) x[c, i] = (float)(previous = 0.7 * previous + 0.3 * (random.NextDouble() - 0.5));
        }
        return x;
    }

    /// <summary>Writes a WAV: formatTag 1 (PCM, 8/16/24/32 bits), 3 (float, 32/64), or extensible=true (0xFFFE + sub-format).</summary>
    public string WriteWav(string name, float[,] samples, int sampleRate, int bits, bool isFloat = false, bool extensible = false)
    {
        int channels = samples.GetLength(0), frames = samples.GetLength(1), bytesPerSample = bits / 8;
        var data = new byte[frames * channels * bytesPerSample];
        var span = data.AsSpan();
        int k = 0;
        for (int i = 0; i < frames; i++)
            for (int c = 0; c < channels; c++, k += bytesPerSample)
            {
                double v = samples[c, i];
                var at = span[k..];
                if (isFloat && bits == 32) BinaryPrimitives.WriteSingleLittleEndian(at, (float)v);
                else if (isFloat) BinaryPrimitives.WriteDoubleLittleEndian(at, v);
                else if (bits == 8) at[0] = (byte)Math.Clamp(Math.Round(v * 128 + 128), 0, 255);
                else if (bits == 16) BinaryPrimitives.WriteInt16LittleEndian(at, (short)Math.Clamp(Math.Round(v * 32768), short.MinValue, short.MaxValue));
                else if (bits == 24)
                {
                    int s = (int)Math.Clamp(Math.Round(v * 8388608), -8388608, 8388607);
                    at[0] = (byte)s; at[1] = (byte)(s >> 8); at[2] = (byte)(s >> 16);
                }
                else BinaryPrimitives.WriteInt32LittleEndian(at, (int)Math.Clamp(Math.Round(v * 2147483648.0), int.MinValue, int.MaxValue));
            }
        return WriteRawWav(name, extensible ? 0xFFFE : isFloat ? 3 : 1, channels, sampleRate, bits, data, isFloat);
    }

    /// <summary>WAV with arbitrary header fields (for absurd-header tests); data written as given.</summary>
    public string WriteRawWav(string name, int formatTag, int channels, int sampleRate, int bits, byte[] data, bool floatSubFormat = false,
        int? blockAlignOverride = null, uint? dataSizeOverride = null)
    {
        var path = PathOf(name);
        using var w = new BinaryWriter(File.Create(path));
        bool ext = formatTag == 0xFFFE;
        int fmtSize = ext ? 40 : 16;
        int blockAlign = blockAlignOverride ?? channels * bits / 8;
        w.Write("RIFF"u8); w.Write((uint)(4 + 8 + fmtSize + 8 + data.Length)); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(fmtSize);
        w.Write((ushort)formatTag); w.Write((ushort)channels); w.Write(sampleRate); w.Write(sampleRate * blockAlign);
        w.Write((ushort)blockAlign); w.Write((ushort)bits);
        if (ext)
        {
            w.Write((ushort)22); w.Write((ushort)bits); w.Write(channels == 2 ? 3u : 0u);
            w.Write(new Guid(floatSubFormat ? "00000003-0000-0010-8000-00aa00389b71" : "00000001-0000-0010-8000-00aa00389b71").ToByteArray());
        }
        w.Write("data"u8); w.Write(dataSizeOverride ?? (uint)data.Length); w.Write(data);
        return path;
    }

    /// <summary>Runs ffmpeg (or sox) and fails the test with its stderr if it fails.</summary>
    public static void Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed: {err.Result}");
    }

    /// <summary>
    /// ffmpeg's own decode of a file as float32 samples (interleaved, <paramref name="channels"/> channels; at
    /// <paramref name="sampleRate"/> if given; through the named <paramref name="decoder"/>, e.g. "libopus", if given):
    /// the oracle decoders are held to.
    /// </summary>
    public static float[] FfmpegSamples(string path, int channels, int? sampleRate = null, string? decoder = null)
    {
        var raw = path + ".f32";
        string[] rate = sampleRate is { } r ? ["-ar", r.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        // A named decoder is asked for float output: ffmpeg's libopus wrapper otherwise gives 16-bit samples.
        string[] codec = decoder is null ? [] : ["-request_sample_fmt", "flt", "-c:a", decoder];
        Run("ffmpeg", ["-nostdin", "-v", "error", "-y", .. codec, "-i", path, "-f", "f32le", "-ac", channels.ToString(System.Globalization.CultureInfo.InvariantCulture), .. rate, raw]);
        var bytes = File.ReadAllBytes(raw);
        var samples = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 4);
        return samples;
    }

    public string Ffmpeg(string input, string outputName, params string[] codecArgs)
    {
        var output = PathOf(outputName);
        Run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", input, .. codecArgs, output]);
        return output;
    }
}
