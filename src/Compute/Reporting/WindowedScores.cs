using ActorTraining.Compute.Audio;

namespace ActorTraining.Compute.Reporting;

/// <summary>
/// A recording scored in windows: each window's class scores, and the recording's overall scores as their mean
/// (null: no window could be read).
/// </summary>
public sealed record WindowedScores(string File, float[]? Overall, IReadOnlyList<(double Start, float[] Scores)> Windows)
{
    /// <summary>Window starts over the recording: 0, hop, 2·hop, … until a window reaches its end (the last one padded).
    /// A file no longer than one window, or one that cannot be read, is one clip from its start.</summary>
    public static IReadOnlyList<double> Starts(string file, double window, double hop)
    {
        double duration;
        try { duration = AudioDecoder.Decode(file).Length / 16000.0; }
        catch (AudioDecodeException) { return [0]; } // the pipeline skips it and says so
        var starts = new List<double> { 0 };
        for (double s = hop; starts[^1] + window < duration && starts.Count < 1_000_000; s += hop)
            starts.Add(Math.Round(s, 6));
        return starts;
    }

    /// <summary>The files' windows, <paramref name="starts"/> per file in order, from the scores of each window scored
    /// (<paramref name="scoreOf"/> by its index among all windows; absent: unreadable).</summary>
    public static IReadOnlyList<WindowedScores> Of(IReadOnlyList<string> files, IReadOnlyList<IReadOnlyList<double>> starts,
        IReadOnlyDictionary<long, float[]> scoreOf, int classes)
    {
        var results = new List<WindowedScores>();
        long entry = 0;
        for (int i = 0; i < files.Count; i++)
        {
            var rows = new List<(double, float[])>();
            foreach (var start in starts[i])
                if (scoreOf.TryGetValue(entry++, out var s)) rows.Add((start, s));
            if (rows.Count == 0) { results.Add(new WindowedScores(files[i], null, [])); continue; }
            var mean = new float[classes];
            foreach (var (_, s) in rows)
                for (int c = 0; c < mean.Length; c++) mean[c] += s[c] / rows.Count;
            results.Add(new WindowedScores(files[i], mean, rows));
        }
        return results;
    }

    /// <summary>The <paramref name="k"/> best classes of <paramref name="scores"/>, best first.</summary>
    public static IEnumerable<int> Best(float[] scores, int k) => Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).Take(k);
}
