using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Training;

/// <summary>One optimisation step as the AST reference takes it, and the reference's optimiser.</summary>
public static class TrainingStep
{
    /// <summary>Adam with the AST reference settings (betas 0.95/0.999, weight decay 5e-7), or other <paramref name="settings"/>.</summary>
    public static AdamOptimizer CreateOptimizer(nn.Module model, double lr, AdamSettings? settings = null) =>
        new(model, lr, settings ?? new AdamSettings());

    /// <summary>Loss of logits [B, C] against targets [B, C] (floats; mixup makes them soft): BCE with logits
    /// (mean over all elements, as nn.BCEWithLogitsLoss) or cross-entropy with soft targets (mean over the batch;
    /// equals nn.CrossEntropyLoss on argmax labels when targets are one-hot).</summary>
    public static Tensor Loss(Tensor logits, Tensor targets, LossKind kind) => kind switch
    {
        LossKind.BinaryCrossEntropy => nn.functional.binary_cross_entropy_with_logits(logits, targets),
        LossKind.CrossEntropy => -(targets * nn.functional.log_softmax(logits, 1)).sum(1).mean(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Forward, loss, backward, optimiser step on x [B, T, F] and y [B, C]; returns the loss value.
    /// Puts the model in training mode. The caller sets the lr (see <see cref="LrSchedule"/>) beforehand.
    /// Intermediate tensors are disposed here; x and y stay the caller's.</summary>
    public static float Run(nn.Module<Tensor, Tensor> model, AdamOptimizer optimizer, Tensor x, Tensor y, LossKind loss)
    {
        return RunCore(model, optimizer, x, y, loss);
    }

    /// <summary>As <see cref="Run(nn.Module{Tensor, Tensor}, AdamOptimizer, Tensor, Tensor, LossKind)"/>, first taking
    /// the step's lr from <paramref name="schedule"/> (<see cref="LrSchedule.NextStep"/>) and applying it.</summary>
    public static float Run(nn.Module<Tensor, Tensor> model, AdamOptimizer optimizer, LrSchedule schedule, Tensor x, Tensor y, LossKind loss)
    {
        optimizer.LearningRate = schedule.NextStep();
        return RunCore(model, optimizer, x, y, loss);
    }

    static float RunCore(nn.Module<Tensor, Tensor> model, AdamOptimizer optimizer, Tensor x, Tensor y, LossKind loss)
    {
        using var scope = NewDisposeScope();
        model.train();
        optimizer.ZeroGrad();
        var logits = model.forward(x);
        var value = Loss(logits, y.to_type(logits.dtype), loss);
        value.backward();
        optimizer.Step();
        return value.item<float>();
    }

    /// <summary>
    /// One step of a rank of a data-parallel group (a group of one included) on a classifier: forward and backward on its
    /// share x [b, T, F], y [b, C] of the global batch (b may be 0: the rank still takes part), the loss summed over the
    /// share back-propagated; see <see cref="RunRank(nn.Module, AdamOptimizer, int, Func{Tensor}, Distributed.GradientExchange, int, bool, int, double)"/>.
    /// </summary>
    public static Distributed.StepTotals RunRank(nn.Module<Tensor, Tensor> model, AdamOptimizer optimizer, Tensor? x, Tensor? y,
        LossKind loss, Distributed.GradientExchange exchange, int skipped, bool pause, int phaseEpochs = 0, double clipGradNorm = 0) =>
        RunRank(model, optimizer, x is null ? 0 : (int)x.shape[0], () => SummedLoss(model, x!, y!, loss), exchange, skipped, pause, phaseEpochs, clipGradNorm);

    /// <summary>A classifier's loss on x [b, T, F], y [b, C], summed over the b samples (the mean × b).</summary>
    public static Tensor SummedLoss(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, LossKind loss)
    {
        using var w = new Runtime.ScalarScope();
        var logits = model.forward(x);
        return Loss(logits, y.to_type(logits.dtype), loss).mul(w.Of((double)x.shape[0]));
    }

    /// <summary>
    /// One step of a rank of a data-parallel group: <paramref name="summedLoss"/> — the sum of each of this rank's
    /// <paramref name="samples"/> losses, called only when it has one — back-propagated, gradients and totals summed
    /// over the ring by <paramref name="exchange"/>, which leaves the full batch's mean gradient whatever the split; then
    /// one check of the global loss and gradient norm (the same values on every replica), clipping to
    /// <paramref name="clipGradNorm"/> when it is positive, and the same optimiser step on every replica — none when no
    /// rank had a sample. Returns the global totals with the gradient norm before clipping. The caller sets the
    /// optimiser's lr beforehand.
    /// </summary>
    /// <exception cref="NonFiniteStepException">The global loss or gradient norm is NaN or infinite: no update was applied.</exception>
    public static Distributed.StepTotals RunRank(nn.Module model, AdamOptimizer optimizer, int samples, Func<Tensor> summedLoss,
        Distributed.GradientExchange exchange, int skipped, bool pause, int phaseEpochs = 0, double clipGradNorm = 0)
    {
        using var scope = NewDisposeScope();
        model.train();
        optimizer.ZeroGrad();
        double lossSum = 0;
        if (samples > 0)
        {
            var value = summedLoss();
            value.backward();
            lossSum = value.item<float>();
        }
        var total = exchange.AllReduce(new Distributed.StepTotals(lossSum, samples, skipped, pause, phaseEpochs));
        if (total.Samples == 0) return total;
        if (!double.IsFinite(total.LossSum)) throw new NonFiniteStepException("loss", total.LossSum);
        double norm = GradientNorm.Of(model);
        if (!double.IsFinite(norm)) throw new NonFiniteStepException("gradient norm", norm);
        if (clipGradNorm > 0) GradientNorm.Clip(model, norm, clipGradNorm);
        optimizer.Step();
        return total with { GradNorm = norm };
    }
}
