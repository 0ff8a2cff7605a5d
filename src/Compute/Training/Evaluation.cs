using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Training;

/// <summary>Scores and targets of a whole evaluation set, and its loss.</summary>
public sealed record EvaluationResult(float[,] Scores, float[,] Targets, double Loss, ClassificationStats Stats);

/// <summary>The AST reference validate(): model in eval mode, no gradients, sigmoid of the logits as scores,
/// then <see cref="Metrics"/> over all clips.</summary>
public static class Evaluation
{
    public static EvaluationResult Run(nn.Module<Tensor, Tensor> model, IEnumerable<(Tensor X, Tensor Y)> batches, LossKind loss)
    {
        var scores = new List<float[]>();
        var targets = new List<float[]>();
        double lossSum = 0;
        int lossCount = 0;
        model.eval();
        using (no_grad())
        {
            foreach (var (x, y) in batches)
            {
                using var scope = NewDisposeScope();
                var logits = model.forward(x);
                var yf = y.to_type(logits.dtype);
                lossSum += TrainingStep.Loss(logits, yf, loss).item<float>() * x.shape[0];
                lossCount += (int)x.shape[0];
                AddRows(scores, sigmoid(logits));
                AddRows(targets, yf);
            }
        }
        if (lossCount == 0) throw new ArgumentException("evaluation set is empty", nameof(batches));
        var s = ToMatrix(scores);
        var t = ToMatrix(targets);
        return new EvaluationResult(s, t, lossSum / lossCount, Metrics.Compute(s, t));
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
