using static TorchSharp.torch;

namespace ActorTraining.Compute.Training;

/// <summary>Scores and targets of a whole evaluation set, its mean loss and the metrics.</summary>
public sealed record EvaluationResult(float[,] Scores, float[,] Targets, double Loss, ClassificationStats Stats);

/// <summary>
/// The AST reference validate(), batch by batch (an evaluator receives batches one at a time): model in eval mode,
/// no gradients, sigmoid of the logits as scores; <see cref="Result"/> runs <see cref="Metrics"/> over all clips.
/// </summary>
public sealed class Evaluation(LossKind loss)
{
    readonly List<float[]> _scores = [];
    readonly List<float[]> _targets = [];
    double _lossSum;

    public int Count => _scores.Count;

    /// <summary>Scores one batch x [B, T, F] with targets y [B, C]. Leaves the model in eval mode.</summary>
    public void Add(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var logits = model.forward(x);
        var yf = y.to_type(logits.dtype);
        _lossSum += TrainingStep.Loss(logits, yf, loss).item<float>() * x.shape[0];
        AddRows(_scores, sigmoid(logits));
        AddRows(_targets, yf);
    }

    public EvaluationResult Result()
    {
        if (Count == 0) throw new InvalidOperationException("evaluation set is empty: no batch was added");
        var s = ToMatrix(_scores);
        var t = ToMatrix(_targets);
        return new EvaluationResult(s, t, _lossSum / Count, Metrics.Compute(s, t));
    }

    /// <summary>All batches at once.</summary>
    public static EvaluationResult Run(nn.Module<Tensor, Tensor> model, IEnumerable<(Tensor X, Tensor Y)> batches, LossKind loss)
    {
        var evaluation = new Evaluation(loss);
        foreach (var (x, y) in batches) evaluation.Add(model, x, y);
        return evaluation.Result();
    }

    static void AddRows(List<float[]> rows, Tensor matrix)
    {
        var m = matrix.detach().cpu().to_type(ScalarType.Float32).contiguous();
        int n = (int)m.shape[0], c = (int)m.shape[1];
        var data = m.data<float>().ToArray();
        for (int i = 0; i < n; i++) rows.Add(data.AsSpan(i * c, c).ToArray());
    }

    static float[,] ToMatrix(List<float[]> rows)
    {
        var m = new float[rows.Count, rows[0].Length];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows[i].Length; j++) m[i, j] = rows[i][j];
        return m;
    }
}
