using ActorTraining.Compute.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// A rank's side of the gradient all-reduce. Each rank back-propagates the *summed* loss of its share (mean × its
/// sample count), so no rank needs to know beforehand how many samples of the global batch the others could read.
/// After backward, every parameter's gradient (in the model's fixed parameter order) and the rank's
/// <see cref="StepTotals"/> are copied into one flat host buffer, summed over the ring, divided by the global sample
/// count and copied back: the full batch's mean gradient, the same bytes on every replica, so the optimiser steps keep
/// the replicas identical. A world of one (no ring) divides in place on the device, with the same rounding.
/// </summary>
public sealed class GradientExchange : IDisposable
{
    const int Controls = 5; // loss sum, samples, skipped, pause, phase epochs

    readonly Parameter[] _parameters;
    readonly long[] _offsets;
    readonly float[]? _flat;
    readonly Tensor? _host; // the flat buffer as a CPU tensor, for device copies in one call per parameter
    readonly RingAllReduce? _ring;

    /// <param name="ring">The rank's end of the ring; null for a world of one.</param>
    public GradientExchange(nn.Module model, RingAllReduce? ring)
    {
        _ring = ring;
        _parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        _offsets = new long[_parameters.Length + 1];
        for (int i = 0; i < _parameters.Length; i++) _offsets[i + 1] = _offsets[i] + _parameters[i].numel();
        if (ring is null) return;
        _flat = new float[_offsets[^1] + Controls];
        _host = zeros(_offsets[^1], float32);
    }

    /// <summary>Elements the ring sums each step (gradients and the step's totals).</summary>
    public long Elements => _offsets[^1] + Controls;

    /// <summary>
    /// Sums the gradients and <paramref name="local"/> over the ring; leaves every parameter's gradient as the global
    /// mean (zero, and present, when no rank had a sample) and returns the global totals.
    /// </summary>
    public StepTotals AllReduce(StepTotals local)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        if (_ring is null)
        {
            using (no_grad())
                if (local.Samples > 0)
                {
                    var inverse = s.Of((double)(1f / local.Samples));
                    foreach (var p in _parameters) GradOf(p).mul_(inverse);
                }
            return local;
        }
        var flat = _flat!;
        var host = _host!;
        long n = _offsets[^1];
        using (no_grad())
            for (int i = 0; i < _parameters.Length; i++)
            {
                var slice = host.narrow(0, _offsets[i], _offsets[i + 1] - _offsets[i]);
                if (_parameters[i].grad is { } grad) slice.copy_(grad.reshape(-1));
                else slice.zero_(); // a rank with no sample in this batch never ran backward
            }
        host.data<float>().CopyTo(flat);
        flat[n] = (float)local.LossSum;
        flat[n + 1] = local.Samples;
        flat[n + 2] = local.Skipped;
        flat[n + 3] = local.Pause ? 1 : 0;
        flat[n + 4] = local.PhaseEpochs; // exact in float32 for any count of epochs × ranks below 2^24
        _ring.Sum(flat);
        var total = new StepTotals(flat[n], (int)flat[n + 1], (int)flat[n + 2], flat[n + 3] > 0, (int)flat[n + 4] / _ring.World);
        if (total.Samples > 0)
        {
            float inverse = 1f / total.Samples;
            var grads = flat.AsSpan(0, (int)n);
            for (int i = 0; i < grads.Length; i++) grads[i] *= inverse;
        }
        host.data<float>().CopyFrom(flat.AsSpan(0, (int)n));
        using (no_grad())
            for (int i = 0; i < _parameters.Length; i++)
            {
                var grad = GradOf(_parameters[i]);
                grad.copy_(host.narrow(0, _offsets[i], _offsets[i + 1] - _offsets[i]).view_as(grad));
            }
        return total;
    }

    // Every replica must step every parameter: a rank that had no sample gets the (reduced) gradient all the same.
    static Tensor GradOf(Parameter p)
    {
        if (p.grad is { } grad) return grad;
        p.grad = zeros_like(p).DetachFromDisposeScope();
        return p.grad!;
    }

    public void Dispose() => _host?.Dispose();
}
