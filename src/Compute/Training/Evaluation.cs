using ActorTraining.Compute.Model;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Training;

/// <summary>Scores and targets of a whole evaluation set, its mean loss and the metrics.</summary>
public sealed record EvaluationResult(float[,] Scores, float[,] Targets, double Loss, ClassificationStats Stats);

/// <summary>What an evaluation's scores are: the AST reference's sigmoid of the logits (for the metrics), or the class
/// probabilities a prediction shows (softmax for a single-label model, sigmoid for a multi-label one).</summary>
/// <summary>Scores for the metrics, probabilities for a prediction (softmax for single-label), or the clip's embedding.</summary>
public enum ScoreKind { Metrics, Prediction, Embedding }

/// <summary>
/// The AST reference validate(), batch by batch (an evaluator receives batches one at a time, and several evaluators
/// may share a set): model in eval mode, no gradients, the batch's scores and summed loss (<see cref="Score"/>);
/// an <see cref="EvaluationGather"/> puts the batches of all evaluators together and runs <see cref="Metrics"/> over all clips.
/// </summary>
public static class Evaluation
{
    /// <summary>Scores one batch x [B, T, F] with targets y [B, C]: scores row-major [B, C] and the batch's mean loss × B
    /// (for <see cref="ScoreKind.Embedding"/>: the pooled representations [B, D] of an <see cref="AudioModel"/>, loss 0).
    /// Leaves the model in eval mode.</summary>
    public static (float[] Scores, double LossSum) Score(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, LossKind loss, ScoreKind kind = ScoreKind.Metrics)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        if (kind == ScoreKind.Embedding)
        {
            var embedding = (model as AudioModel ?? throw new ArgumentException("embeddings are an AudioModel's", nameof(model))).Embed(x);
            return (embedding.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray(), 0);
        }
        var logits = model.forward(x);
        var yf = y.to_type(logits.dtype);
        double lossSum = TrainingStep.Loss(logits, yf, loss).item<float>() * x.shape[0];
        var scores = kind == ScoreKind.Prediction && loss == LossKind.CrossEntropy ? nn.functional.softmax(logits, 1) : sigmoid(logits);
        return (scores.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray(), lossSum);
    }

    /// <summary>SSAST's pretext tasks on one batch x [B, T, F] with its masks [B, M]: one row per clip of
    /// <see cref="SsastPretext.ScoreNames"/> (pretext accuracy, nce, mse) and the summed loss nce + 10 · mse.
    /// Leaves the model in eval mode.</summary>
    public static (float[] Rows, double LossSum) Score(SsastModel model, Tensor x, Tensor discriminative, Tensor generative)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var (accuracy, nce, mse, loss) = SsastPretext.Run(model, x, discriminative, generative);
        var rows = stack([accuracy, nce, mse], 1).cpu().to_type(ScalarType.Float32).contiguous();
        return (rows.data<float>().ToArray(), loss.sum().to_type(ScalarType.Float64).item<double>());
    }

    /// <summary>All batches at once, by one evaluator; <paramref name="targets"/> as the batches' y rows, in order.</summary>
    public static EvaluationResult Run(nn.Module<Tensor, Tensor> model, IEnumerable<(Tensor X, Tensor Y)> batches, LossKind loss)
    {
        var rows = new List<float[]>();
        var targetRows = new List<float[]>();
        var gather = new EvaluationGather(long.MaxValue, p => targetRows[(int)p]);
        long batch = 0;
        foreach (var (x, y) in batches)
        {
            var (scores, lossSum) = Score(model, x, y, loss);
            int n = (int)x.shape[0], c = scores.Length / Math.Max(1, n);
            var positions = new long[n];
            using (var yc = y.detach().cpu().to_type(ScalarType.Float32).contiguous())
            {
                var t = yc.data<float>().ToArray();
                for (int i = 0; i < n; i++) { positions[i] = targetRows.Count; targetRows.Add(t.AsSpan(i * c, c).ToArray()); }
            }
            gather.Add(batch++, 0, 1, positions, scores, lossSum);
        }
        return gather.Result();
    }
}
