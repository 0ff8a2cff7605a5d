using ActorTraining.Compute.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// A rank's side of the gradient all-reduce: after backward, every parameter's gradient (in the model's fixed
/// parameter order) and the rank's weighted loss are copied into one flat host buffer, summed over the ring, and
/// copied back — the same bytes on every replica, so the optimiser steps keep the replicas identical.
/// A one-rank world has no ring and leaves the gradients alone.
/// </summary>
public sealed class GradientExchange : IDisposable
{
    readonly Parameter[] _parameters;
    readonly long[] _offsets;
    readonly float[] _flat;
    readonly Tensor _host; // the flat buffer as a CPU tensor, for device copies in one call per parameter
    readonly RingAllReduce _ring;

    public GradientExchange(nn.Module model, RingAllReduce ring)
    {
        _ring = ring;
        _parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        _offsets = new long[_parameters.Length + 1];
        for (int i = 0; i < _parameters.Length; i++) _offsets[i + 1] = _offsets[i] + _parameters[i].numel();
        _flat = new float[_offsets[^1] + 1]; // + the weighted loss
        _host = zeros(_flat.Length, float32);
    }

    public long Elements => _flat.Length;

    /// <summary>Sums the gradients over the ring in place; returns the sum of the ranks' weighted losses (the global mean loss).</summary>
    public float AllReduce(float weightedLoss)
    {
        using var scope = NewDisposeScope();
        using (no_grad())
            for (int i = 0; i < _parameters.Length; i++)
            {
                var slice = _host.narrow(0, _offsets[i], _offsets[i + 1] - _offsets[i]);
                if (_parameters[i].grad is { } grad) slice.copy_(grad.reshape(-1));
                else slice.zero_();
            }
        _host.data<float>().CopyTo(_flat);
        _flat[^1] = weightedLoss;
        _ring.Sum(_flat);
        _host.data<float>().CopyFrom(_flat);
        using (no_grad())
            for (int i = 0; i < _parameters.Length; i++)
                if (_parameters[i].grad is { } grad)
                    grad.copy_(_host.narrow(0, _offsets[i], _offsets[i + 1] - _offsets[i]).view_as(grad));
        return _flat[^1];
    }

    public void Dispose() => _host.Dispose();
}
