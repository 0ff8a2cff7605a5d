using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ActorTraining.Compute.Training;

/// <summary>Paths of a generated corpus: AST datafiles (train, eval), class_labels_indices.csv, class names.</summary>
public sealed record SyntheticCorpusFiles(string Folder, string TrainDatafile, string EvalDatafile, string LabelCsv, IReadOnlyList<string> Classes);

/// <summary>
/// A small deterministic sound-event corpus whose classes differ in TEMPORAL structure, so time compression
/// matters: the same three tones rising or falling, a chirp up or down, the same tone pulsed fast or slow.
/// Pairs (rising/falling, chirp up/down) have the same spectrum on average — only order in time tells them apart.
/// Every clip has its own random tone frequencies, timing, level, start offset and white noise (SNR 6–20 dB);
/// each clip's content depends only on (seed, split, class, index), so the bytes are identical for a seed.
/// 16 kHz mono 16-bit WAV, single label per clip.
/// </summary>
public static class SyntheticCorpus
{
    public const int SampleRate = 16000;

    /// <summary>Class mids (AST style) and display names, in label-index order.</summary>
    public static readonly IReadOnlyList<(string Mid, string Name)> ClassList =
    [
        ("/t/rising_tones", "Rising tones"),
        ("/t/falling_tones", "Falling tones"),
        ("/t/up_chirp", "Up chirp"),
        ("/t/down_chirp", "Down chirp"),
        ("/t/fast_pulses", "Fast pulses"),
        ("/t/slow_pulses", "Slow pulses"),
    ];

    public static SyntheticCorpusFiles Generate(string folder, SyntheticConfig config) =>
        Generate(folder, config.TrainClipsPerClass, config.Seed, config.EvalClipsPerClass, config.MinSeconds, config.MaxSeconds);

    /// <summary>Writes train/ and eval/ WAVs, train.json, eval.json and class_labels_indices.csv under
    /// <paramref name="folder"/>. If the folder already holds a corpus made with the same parameters
    /// (synthetic.json), nothing is rewritten.</summary>
    public static SyntheticCorpusFiles Generate(string folder, int clipsPerClass, int seed, int evalClipsPerClass = 0,
        double minSeconds = 1.0, double maxSeconds = 3.0)
    {
        if (clipsPerClass <= 0) throw new ArgumentOutOfRangeException(nameof(clipsPerClass), clipsPerClass, "must be > 0");
        if (evalClipsPerClass <= 0) evalClipsPerClass = Math.Max(1, clipsPerClass / 4);
        if (!(minSeconds > 0.5 && maxSeconds >= minSeconds))
            throw new ArgumentOutOfRangeException(nameof(minSeconds), $"clip length must satisfy 0.5 < min ({minSeconds}) <= max ({maxSeconds})");
        folder = Path.GetFullPath(folder);
        var files = new SyntheticCorpusFiles(folder, Path.Combine(folder, "train.json"), Path.Combine(folder, "eval.json"),
            Path.Combine(folder, "class_labels_indices.csv"), ClassList.Select(c => c.Name).ToArray());
        var manifestPath = Path.Combine(folder, "synthetic.json");
        var manifest = JsonSerializer.Serialize(new { version = 1, clipsPerClass, evalClipsPerClass, seed, minSeconds, maxSeconds });
        if (File.Exists(manifestPath) && File.ReadAllText(manifestPath) == manifest && File.Exists(files.TrainDatafile)
            && File.Exists(files.EvalDatafile) && File.Exists(files.LabelCsv))
            return files;

        Directory.CreateDirectory(folder);
        File.Delete(manifestPath);   // written last: a half-written corpus is regenerated
        WriteSplit(folder, "train", clipsPerClass, seed, minSeconds, maxSeconds, files.TrainDatafile);
        WriteSplit(folder, "eval", evalClipsPerClass, seed, minSeconds, maxSeconds, files.EvalDatafile);
        var csv = new StringBuilder("index,mid,display_name\n");
        for (int k = 0; k < ClassList.Count; k++) csv.Append($"{k},{ClassList[k].Mid},\"{ClassList[k].Name}\"\n");
        File.WriteAllText(files.LabelCsv, csv.ToString());
        File.WriteAllText(manifestPath, manifest);
        return files;
    }

    static void WriteSplit(string folder, string split, int clipsPerClass, int seed, double minSeconds, double maxSeconds, string datafile)
    {
        var entries = new List<object>();
        for (int k = 0; k < ClassList.Count; k++)
        {
            var slug = ClassList[k].Mid[3..];
            Directory.CreateDirectory(Path.Combine(folder, split, slug));
            for (int i = 0; i < clipsPerClass; i++)
            {
                var relative = $"{split}/{slug}/{slug}_{i:D4}.wav";
                var clip = Synthesize(k, new Random(ClipSeed(seed, split, k, i)), minSeconds, maxSeconds);
                WavFile.WriteMono16(Path.Combine(folder, relative), clip, SampleRate);
                entries.Add(new { wav = relative, labels = ClassList[k].Mid });
            }
        }
        File.WriteAllText(datafile, JsonSerializer.Serialize(new { data = entries }, new JsonSerializerOptions { WriteIndented = true }));
    }

    // Deterministic across processes (unlike HashCode.Combine): depends only on the arguments.
    static int ClipSeed(int seed, string split, int classIndex, int index) =>
        unchecked(seed * 1_000_003 + (split == "train" ? 0 : 500_009) + classIndex * 10_007 + index * 31);

    /// <summary>One clip of class <paramref name="classIndex"/> (index into <see cref="ClassList"/>), drawn from <paramref name="rng"/>.</summary>
    public static float[] Synthesize(int classIndex, Random rng, double minSeconds = 1.0, double maxSeconds = 3.0)
    {
        double seconds = minSeconds + rng.NextDouble() * (maxSeconds - minSeconds);
        var x = new float[(int)(seconds * SampleRate)];
        // The event fills 45–70 % of the clip, starting anywhere it fits.
        double eventSeconds = seconds * (0.45 + 0.25 * rng.NextDouble());
        double start = rng.NextDouble() * (seconds - eventSeconds);
        double amplitude = 0.15 + 0.25 * rng.NextDouble();
        // Three tones f1 < f2 < f3 drawn the same way for every class, so the classes share one frequency range.
        double f1 = 300 + 900 * rng.NextDouble(), ratio = 1.3 + 0.3 * rng.NextDouble();
        double[] tones = [f1, f1 * ratio, f1 * ratio * ratio];
        switch (classIndex)
        {
            case 0 or 1:   // three equal bursts, ascending or descending
            {
                double burst = eventSeconds / 3;
                for (int b = 0; b < 3; b++)
                    AddTone(x, start + b * burst, burst * 0.9, classIndex == 0 ? tones[b] : tones[2 - b], 0, amplitude);
                break;
            }
            case 2 or 3:   // one linear chirp between f1 and f3
                AddTone(x, start, eventSeconds, classIndex == 2 ? tones[0] : tones[2], classIndex == 2 ? tones[2] : tones[0], amplitude);
                break;
            case 4 or 5:   // f2 pulsed at 8–10 Hz or 2–2.5 Hz, half duty cycle either way
            {
                double rate = classIndex == 4 ? 8 + 2 * rng.NextDouble() : 2 + 0.5 * rng.NextDouble();
                double period = 1 / rate;
                for (double t = start; t + period / 2 <= start + eventSeconds + 1e-9; t += period)
                    AddTone(x, t, period / 2, tones[1], 0, amplitude);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"0..{ClassList.Count - 1}");
        }
        // White noise at 6–20 dB below the event's level.
        double snrDb = 6 + 14 * rng.NextDouble();
        double noiseRms = amplitude / Math.Sqrt(2) / Math.Pow(10, snrDb / 20);
        for (int i = 0; i < x.Length; i++) x[i] += (float)(noiseRms * Gaussian(rng));
        return x;
    }

    // A tone from startSeconds lasting durationSeconds, frequency gliding linearly from f0 to f1 (f1 = 0: constant),
    // with 5 ms raised-cosine ramps so bursts do not click.
    static void AddTone(float[] x, double startSeconds, double durationSeconds, double f0, double f1, double amplitude)
    {
        if (f1 <= 0) f1 = f0;
        int first = (int)(startSeconds * SampleRate), n = (int)(durationSeconds * SampleRate);
        int ramp = Math.Min(n / 2, SampleRate / 200);
        double phase = 0;
        for (int i = 0; i < n && first + i < x.Length; i++)
        {
            double f = f0 + (f1 - f0) * i / n;
            phase += 2 * Math.PI * f / SampleRate;
            double envelope = i < ramp ? 0.5 - 0.5 * Math.Cos(Math.PI * i / ramp)
                : i >= n - ramp ? 0.5 - 0.5 * Math.Cos(Math.PI * (n - i) / ramp) : 1;
            x[first + i] += (float)(amplitude * envelope * Math.Sin(phase));
        }
    }

    static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
