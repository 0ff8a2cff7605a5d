using ActorTraining.Compute.Features;
using ActorTraining.Compute.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Training;

/// <summary>
/// AdamOptimizer against torch.optim.Adam / AdamW themselves (Debian's torch 1.13), on the committed fixture
/// tests/fixtures/adam (made by its make_fixture.py): the same parameters, gradients and per-step learning rates,
/// parameters compared after every one of 12 steps.
/// </summary>
public sealed class AdamOptimizerTests
{
    static readonly long[][] Shapes = [[3, 4], [4], [2, 3, 2]];

    sealed class ThreeParameters : nn.Module
    {
        public ThreeParameters(float[] flat) : base(nameof(ThreeParameters))
        {
            int offset = 0;
            for (int i = 0; i < Shapes.Length; i++)
            {
                int n = (int)Shapes[i].Aggregate(1L, (a, b) => a * b);
                register_parameter($"p{i}", new Parameter(tensor(flat.AsSpan(offset, n).ToArray(), Shapes[i])));
                offset += n;
            }
        }

        public float[] Flat() => parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

        public void SetGradients(float[] flat, int step, int size)
        {
            int offset = step * size;
            foreach (var (p, shape) in parameters().Zip(Shapes))
            {
                int n = (int)shape.Aggregate(1L, (a, b) => a * b);
                p.grad = tensor(flat.AsSpan(offset, n).ToArray(), shape);
                offset += n;
            }
        }
    }

    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "adam", name);

    [Theory]
    [InlineData("adam_ast", AdamVariant.Adam, 5e-7)]
    [InlineData("adam_wd", AdamVariant.Adam, 0.1)]
    [InlineData("adamw", AdamVariant.AdamW, 0.01)]
    public void EveryStepEqualsTorchOptim(string fixture, AdamVariant variant, double weightDecay)
    {
        var (init, _) = NpyFile.Read(Fixture("init.npy"));
        var (grads, gradShape) = NpyFile.Read(Fixture("grads.npy"));
        var (lrs, _) = NpyFile.Read(Fixture("lrs.npy"));
        var (expected, _) = NpyFile.Read(Fixture(fixture + ".npy"));
        int size = init.Length, steps = (int)gradShape[0];

        using var model = new ThreeParameters(init);
        using var adam = new AdamOptimizer(model, lrs[0], new AdamSettings(0.95, 0.999, weightDecay, 1e-8, variant));
        double worst = 0;
        for (int k = 0; k < steps; k++)
        {
            model.SetGradients(grads, k, size);
            adam.LearningRate = lrs[k];
            adam.Step();
            var actual = model.Flat();
            for (int i = 0; i < size; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[k * size + i]));
        }
        Assert.True(worst <= 1e-6, $"{fixture}: largest difference from torch.optim over {steps} steps is {worst:E2}");
        Assert.Equal(steps, adam.Steps);
    }
}
