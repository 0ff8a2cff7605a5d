using System.Text.Json.Serialization;
using ActorTraining.Compute.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Training;

/// <summary>Adam as torch.optim.Adam (L2 weight decay added to the gradient) or AdamW (decoupled decay).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AdamVariant>))]
public enum AdamVariant { [JsonStringEnumMemberName("adam")] Adam, [JsonStringEnumMemberName("adamw")] AdamW }

/// <summary>The AST reference's optimiser settings: betas (0.95, 0.999), weight decay 5e-7, eps 1e-8, Adam.</summary>
public sealed record AdamSettings(double Beta1 = 0.95, double Beta2 = 0.999, double WeightDecay = 5e-7, double Eps = 1e-8,
    AdamVariant Variant = AdamVariant.Adam);

/// <summary>
/// torch.optim.Adam / AdamW (PyTorch 1.13's single-tensor path, amsgrad off), step for step. Ours rather than
/// TorchSharp's because TorchSharp's optimisers pass every coefficient as a temporary Scalar
/// (<c>exp_avg.mul_(beta1).add_(grad, alpha: 1 - beta1)</c>) that the finalizer may free mid-call
/// (dotnet/TorchSharp#1434); here each step's coefficients live in a <see cref="ScalarScope"/> for the whole step.
/// State: one step count (every parameter of our models gets a gradient each step), exp_avg and exp_avg_sq per
/// parameter, named by the parameter — what checkpoints store.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    readonly (string Name, Parameter Parameter)[] _parameters;
    readonly Tensor[] _expAvg;
    readonly Tensor[] _expAvgSq;

    public AdamSettings Settings { get; }

    /// <summary>The learning rate of the next step (the LR schedule sets it before each step).</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken.</summary>
    public long Steps { get; private set; }

    public AdamOptimizer(nn.Module model, double learningRate, AdamSettings settings)
    {
        Settings = settings;
        LearningRate = learningRate;
        _parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToArray();
        using var noGrad = no_grad();
        _expAvg = _parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
        _expAvgSq = _parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Zeroes every gradient (as PyTorch 1.13's zero_grad(set_to_none=False)).</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, p) in _parameters)
            if (p.grad is { } g) g.zero_();
    }

    /// <summary>One optimisation step with the gradients the parameters hold.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var s = new ScalarScope();
        Steps++;
        var (b1, b2, wd, eps, variant) = Settings;
        double lr = LearningRate;
        double bias1 = 1 - Math.Pow(b1, Steps), bias2 = 1 - Math.Pow(b2, Steps);
        Scalar beta1 = s.Of(b1), keep1 = s.Of(1 - b1), beta2 = s.Of(b2), keep2 = s.Of(1 - b2), epsilon = s.Of(eps);
        Scalar bias2Sqrt = s.Of(Math.Sqrt(bias2)), stepSize = s.Of(-lr / bias1);
        Scalar decay = s.Of(wd), decoupled = s.Of(1 - lr * wd);
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i].Parameter;
            if (p.grad is not { } grad) continue;
            if (variant == AdamVariant.AdamW) p.mul_(decoupled);
            else if (wd != 0) grad = grad.add(p, decay);
            _expAvg[i].mul_(beta1).add_(grad, keep1);
            _expAvgSq[i].mul_(beta2).addcmul_(grad, grad, keep2);
            var denominator = _expAvgSq[i].sqrt().div_(bias2Sqrt).add_(epsilon, HeldScalars.One);
            p.addcdiv_(_expAvg[i], denominator, stepSize);
        }
    }

    /// <summary>The state tensors, named for a checkpoint: exp_avg.&lt;parameter&gt; and exp_avg_sq.&lt;parameter&gt;.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateTensors()
    {
        for (int i = 0; i < _parameters.Length; i++) yield return ("exp_avg." + _parameters[i].Name, _expAvg[i]);
        for (int i = 0; i < _parameters.Length; i++) yield return ("exp_avg_sq." + _parameters[i].Name, _expAvgSq[i]);
    }

    /// <summary>Sets the step count after the state tensors were loaded (a resumed run continues the bias correction).</summary>
    public void RestoreSteps(long steps) => Steps = steps;

    public void Dispose()
    {
        foreach (var t in _expAvg) t.Dispose();
        foreach (var t in _expAvgSq) t.Dispose();
    }
}
