namespace ActorTraining.Compute.Training;

/// <summary>Per-class average precision and ROC AUC plus their means, d′ and accuracy (AST utilities/stats.py).
/// Classes whose targets are all positive or all negative have no AP/AUC (NaN, as sklearn would refuse them)
/// and are left out of the means.</summary>
public sealed record ClassificationStats(double[] AveragePrecision, double[] Auc, double MeanAveragePrecision, double MeanAuc, double DPrime, double Accuracy)
{
    /// <summary>"map" → mAP, "accuracy" → accuracy (the names <see cref="TrainingConfig.ResolvedMetric"/> uses).</summary>
    public double Get(string metric) => metric switch
    {
        "map" => MeanAveragePrecision,
        "accuracy" => Accuracy,
        "mauc" => MeanAuc,
        "dprime" => DPrime,
        _ => throw new ArgumentException($"unknown metric '{metric}' (map, accuracy, mauc, dprime)", nameof(metric)),
    };
}

/// <summary>Pure functions over scores [N, C] and 0/1 targets [N, C], with sklearn's definitions:
/// average_precision_score (Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds), roc_auc_score (trapezoidal, ties at one
/// threshold), accuracy_score of argmax(target) vs argmax(score) (first maximum on ties, as numpy).</summary>
public static class Metrics
{
    public static ClassificationStats Compute(float[,] scores, float[,] targets)
    {
        int n = scores.GetLength(0), c = scores.GetLength(1);
        if (targets.GetLength(0) != n || targets.GetLength(1) != c)
            throw new ArgumentException($"scores are {n}x{c} but targets are {targets.GetLength(0)}x{targets.GetLength(1)}");
        if (n == 0) throw new ArgumentException("no clips to score");
        var ap = new double[c];
        var auc = new double[c];
        for (int k = 0; k < c; k++)
        {
            var s = new double[n];
            var t = new bool[n];
            for (int i = 0; i < n; i++) { s[i] = scores[i, k]; t[i] = targets[i, k] > 0.5f; }
            ap[k] = AveragePrecision(s, t);
            auc[k] = RocAuc(s, t);
        }
        var mAuc = MeanIgnoringNaN(auc);
        return new ClassificationStats(ap, auc, MeanIgnoringNaN(ap), mAuc, DPrime(mAuc), Accuracy(scores, targets));
    }

    /// <summary>Fraction of clips whose highest score is their highest target.</summary>
    public static double Accuracy(float[,] scores, float[,] targets)
    {
        int n = scores.GetLength(0), hits = 0;
        for (int i = 0; i < n; i++) if (ArgMax(scores, i) == ArgMax(targets, i)) hits++;
        return (double)hits / n;
    }

    /// <summary>d′ = √2 · Φ⁻¹(AUC).</summary>
    public static double DPrime(double auc) => Math.Sqrt(2.0) * NormalQuantile(auc);

    /// <summary>sklearn average_precision_score for one class; NaN without positives.</summary>
    public static double AveragePrecision(double[] scores, bool[] positive)
    {
        int totalPos = positive.Count(p => p);
        if (totalPos == 0 || totalPos == positive.Length) return totalPos == 0 ? double.NaN : 1.0;
        double ap = 0, prevRecall = 0;
        foreach (var (tp, fp) in CumulativeCounts(scores, positive))
        {
            double recall = (double)tp / totalPos, precision = (double)tp / (tp + fp);
            ap += (recall - prevRecall) * precision;
            prevRecall = recall;
        }
        return ap;
    }

    /// <summary>sklearn roc_auc_score for one class; NaN when only one class is present.</summary>
    public static double RocAuc(double[] scores, bool[] positive)
    {
        int totalPos = positive.Count(p => p), totalNeg = positive.Length - totalPos;
        if (totalPos == 0 || totalNeg == 0) return double.NaN;
        double area = 0, prevTpr = 0, prevFpr = 0;
        foreach (var (tp, fp) in CumulativeCounts(scores, positive))
        {
            double tpr = (double)tp / totalPos, fpr = (double)fp / totalNeg;
            area += (fpr - prevFpr) * (tpr + prevTpr) / 2;
            (prevTpr, prevFpr) = (tpr, fpr);
        }
        return area;
    }

    // (true positives, false positives) at each distinct score, from the highest down; tied scores form one step.
    static IEnumerable<(int Tp, int Fp)> CumulativeCounts(double[] scores, bool[] positive)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ToArray();
        int tp = 0, fp = 0;
        for (int j = 0; j < order.Length; j++)
        {
            if (positive[order[j]]) tp++; else fp++;
            if (j == order.Length - 1 || scores[order[j + 1]] != scores[order[j]]) yield return (tp, fp);
        }
    }

    static int ArgMax(float[,] m, int row)
    {
        int best = 0;
        for (int j = 1; j < m.GetLength(1); j++) if (m[row, j] > m[row, best]) best = j;
        return best;
    }

    static double MeanIgnoringNaN(double[] values)
    {
        var kept = values.Where(v => !double.IsNaN(v)).ToArray();
        return kept.Length == 0 ? double.NaN : kept.Average();
    }

    /// <summary>Φ⁻¹(p), the standard normal quantile (Wichura 1988, AS241 PPND16; relative error ~1e-16).</summary>
    public static double NormalQuantile(double p)
    {
        if (double.IsNaN(p) || p < 0 || p > 1) return double.NaN;
        if (p == 0) return double.NegativeInfinity;
        if (p == 1) return double.PositiveInfinity;
        double q = p - 0.5, r;
        if (Math.Abs(q) <= 0.425)
        {
            r = 0.180625 - q * q;
            return q * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r
                        + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r
                        + 133.14166789178437745) * r + 3.387132872796366608)
                   / (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r
                        + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r
                        + 42.313330701600911252) * r + 1.0);
        }
        r = q < 0 ? p : 1 - p;
        r = Math.Sqrt(-Math.Log(r));
        double value;
        if (r <= 5)
        {
            r -= 1.6;
            value = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r
                        + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                        + 4.6303378461565452959) * r + 1.42343711074968357734)
                    / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r
                        + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                        + 2.05319162663775882187) * r + 1.0);
        }
        else
        {
            r -= 5;
            value = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r
                        + 0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                        + 5.4637849111641143699) * r + 6.6579046435011037772)
                    / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r
                        + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                        + 0.59983220655588793769) * r + 1.0);
        }
        return q < 0 ? -value : value;
    }
}
