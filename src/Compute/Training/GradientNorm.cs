using ActorTraining.Compute.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Training;

/// <summary>The global L2 norm of a model's gradients, and clipping to a maximum norm as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientNorm
{
    /// <summary>The L2 norm over every gradient the model's trainable parameters hold, summed in float64 (NaN or inf
    /// when any gradient is). One device-to-host read.</summary>
    public static double Of(nn.Module model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var squares = model.parameters().Where(p => p.requires_grad && p.grad is not null)
            .Select(p => { var g = p.grad!.reshape(-1).to_type(float64); return g.dot(g); }).ToArray();
        return squares.Length == 0 ? 0 : Math.Sqrt(stack(squares).sum().item<double>());
    }

    /// <summary>Scales every gradient by max / (norm + 1e-6) when that is below 1, as clip_grad_norm_ does.</summary>
    public static void Clip(nn.Module model, double norm, double max)
    {
        double coefficient = max / (norm + 1e-6);
        if (coefficient >= 1) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var s = new ScalarScope();
        var factor = s.Of(coefficient);
        foreach (var p in model.parameters().Where(p => p.requires_grad && p.grad is not null)) p.grad!.mul_(factor);
    }
}
