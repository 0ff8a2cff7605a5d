using System.Globalization;

namespace ActorTraining.Compute.Data;

/// <summary>
/// Per-clip sampling weights for the AST reference's balanced sampler (its AudioSet recipe: WeightedRandomSampler with
/// replacement, as many draws per epoch as clips). From label frequencies as the reference's gen_weight_file.py
/// computes them — each label 1000 / (its clip count + 0.01), a clip the sum over its labels — or from the reference's
/// <c>*_weight.csv</c> (numpy.savetxt: one weight per line, in datafile order). Kept as cumulative sums, 8 bytes a clip.
/// </summary>
public sealed class SampleWeights
{
    readonly double[] _cumulative;

    SampleWeights(double[] weights, string origin)
    {
        _cumulative = new double[weights.Length];
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (!(weights[i] >= 0 && double.IsFinite(weights[i])))
                throw new InvalidDataException($"{origin}: weight {i + 1} is {weights[i]}; weights must be finite and ≥ 0");
            _cumulative[i] = sum += weights[i];
        }
        if (!(sum > 0)) throw new InvalidDataException($"{origin}: the weights sum to {sum}; at least one must be positive");
    }

    public int Count => _cumulative.Length;

    public double this[int clip] => _cumulative[clip] - (clip == 0 ? 0 : _cumulative[clip - 1]);

    /// <summary>The clip whose share of the total holds <paramref name="u"/> ∈ [0, 1) (a clip of weight 0 is never drawn).</summary>
    public int Draw(double u)
    {
        double target = u * _cumulative[^1];
        int lo = 0, hi = _cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_cumulative[mid] > target) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    public static SampleWeights FromLabelFrequencies(IReadOnlyList<DatasetEntry> entries, LabelSet labels)
    {
        var counts = new double[labels.Count];
        foreach (var e in entries)
            foreach (var label in e.Labels)
                if (labels.IndexOf(label) is >= 0 and var i) counts[i]++;
        var weights = new double[entries.Count];
        for (int k = 0; k < entries.Count; k++)
            foreach (var label in entries[k].Labels)
                if (labels.IndexOf(label) is >= 0 and var i) weights[k] += 1000.0 / (counts[i] + 0.01);
        return new SampleWeights(weights, "the training set's labels");
    }

    /// <summary>Reads a reference weight file; it must hold exactly one weight per training clip.</summary>
    public static SampleWeights FromCsv(string path, int clips)
    {
        var weights = new List<double>(clips);
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.Trim().Length == 0) continue;
            if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
                throw new InvalidDataException($"{path}:{line}: '{text.Trim()}' is not a number");
            weights.Add(w);
        }
        if (weights.Count != clips)
            throw new InvalidDataException($"{path}: {weights.Count} weights for {clips} training clips (one per datafile entry, in order)");
        return new SampleWeights(weights.ToArray(), path);
    }
}
