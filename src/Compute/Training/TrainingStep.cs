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
    /// One data-parallel step of a rank: its share x [b, T, F], y [b, C] of a global batch, the loss weighted by
    /// <paramref name="weight"/> (= b / B, see Distributed.GlobalBatch), gradients summed over the ring by
    /// <paramref name="exchange"/>, then the same optimiser step as every other replica. Returns the global batch's loss.
    /// </summary>
    public static float RunShare(nn.Module<Tensor, Tensor> model, AdamOptimizer optimizer, Tensor x, Tensor y, LossKind loss,
        double weight, Distributed.GradientExchange exchange)
    {
        using var scope = NewDisposeScope();
        using var w = new Runtime.ScalarScope();
        model.train();
        optimizer.ZeroGrad();
        var logits = model.forward(x);
        var value = Loss(logits, y.to_type(logits.dtype), loss).mul(w.Of(weight));
        value.backward();
        var global = exchange.AllReduce(value.item<float>());
        optimizer.Step();
        return global;
    }
}
