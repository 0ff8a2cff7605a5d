using System.Text;

namespace ActorTraining.Compute.Training;

/// <summary>Writes mono 16-bit PCM WAV files (what the synthetic corpus ships; any decoder reads them).</summary>
public static class WavFile
{
    public static void WriteMono16(string path, ReadOnlySpan<float> samples, int sampleRate)
    {
        var bytes = new byte[44 + 2 * samples.Length];
        var w = new BinaryWriter(new MemoryStream(bytes));
        w.Write(Encoding.ASCII.GetBytes("RIFF"));
        w.Write(36 + 2 * samples.Length);
        w.Write(Encoding.ASCII.GetBytes("WAVEfmt "));
        w.Write(16);                 // fmt chunk size
        w.Write((short)1);           // PCM
        w.Write((short)1);           // mono
        w.Write(sampleRate);
        w.Write(sampleRate * 2);     // byte rate
        w.Write((short)2);           // block align
        w.Write((short)16);          // bits per sample
        w.Write(Encoding.ASCII.GetBytes("data"));
        w.Write(2 * samples.Length);
        foreach (var s in samples) w.Write((short)Math.Round(Math.Clamp(s, -1f, 1f) * 32767f));
        File.WriteAllBytes(path, bytes);
    }
}
