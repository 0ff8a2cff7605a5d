using ActorTraining.Compute.Tests.Model;
using ActorTraining.Compute.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Training;

public class TrainingStepTests
{
    [Fact]
    public void BceIsMeanOfPerElementLogLossComputedByHand()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 2f, -1f, 0.5f, 0f }).reshape(2, 2);
        var y = tensor(new float[] { 1f, 0f, 0.3f, 1f }).reshape(2, 2);
        double Sig(double z) => 1 / (1 + Math.Exp(-z));
        double L(double z, double t) => -(t * Math.Log(Sig(z)) + (1 - t) * Math.Log(1 - Sig(z)));
        var expected = (L(2, 1) + L(-1, 0) + L(0.5, 0.3) + L(0, 1)) / 4;
        Assert.Equal(expected, TrainingStep.Loss(logits, y, LossKind.BinaryCrossEntropy).item<float>(), 5);
    }

    [Fact]
    public void CeWithOneHotTargetsEqualsCrossEntropyOnArgmaxAndAcceptsSoftTargets()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 1f, 2f, 0.5f, -1f, 0f, 3f }).reshape(2, 3);
        var oneHot = tensor(new float[] { 0, 1, 0, 0, 0, 1 }).reshape(2, 3);
        var reference = nn.functional.cross_entropy(logits, tensor(new long[] { 1, 2 })).item<float>();
        Assert.Equal(reference, TrainingStep.Loss(logits, oneHot, LossKind.CrossEntropy).item<float>(), 5);
        // mixup-style soft target: λ·CE(a) + (1−λ)·CE(b)
        var soft = tensor(new float[] { 0.7f, 0.3f, 0, 0, 0, 1 }).reshape(2, 3);
        var ls0 = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(0.5));
        var ls1 = Math.Log(Math.Exp(-1) + Math.Exp(0) + Math.Exp(3));
        var expected = (0.7 * (ls0 - 1) + 0.3 * (ls0 - 2) + (ls1 - 3)) / 2;
        Assert.Equal(expected, TrainingStep.Loss(logits, soft, LossKind.CrossEntropy).item<float>(), 5);
    }

    [Fact]
    public void OptimizerIsAdamWithTheReferenceBetasAndWeightDecay()
    {
        var model = nn.Linear(3, 2);
        var opt = TrainingStep.CreateOptimizer(model, 1e-4);
        Assert.Equal(new AdamSettings(0.95, 0.999, 5e-7, 1e-8, AdamVariant.Adam), opt.Settings);
        Assert.Equal(1e-4, opt.LearningRate);
    }

    [Theory]
    [InlineData(LossKind.CrossEntropy)]
    [InlineData(LossKind.BinaryCrossEntropy)]
    public void StepsLearnASeparableProblemAndEvaluationScoresIt(LossKind kind)
    {
        torch.manual_seed(3);
        // x [B, T, F]: class 0 has energy early in time, class 1 late — a model must look at time order.
        using var data = NewDisposeScope();
        var (x, y) = Batch(64, new Random(5));
        var model = nn.Sequential(nn.Flatten(), nn.Linear(8 * 4, 16), nn.ReLU(), nn.Linear(16, 2));
        var opt = TrainingStep.CreateOptimizer(model, 1e-2);
        var schedule = new LrSchedule(new LrScheduleSettings(1e-2, WarmupSteps: 10, DecayStart: 5, DecayStep: 1, Gamma: 0.5));
        var losses = Enumerable.Range(0, 60).Select(_ => TrainingStep.Run(model, opt, schedule, x, y, kind)).ToArray();
        Assert.Equal(60, schedule.State.Step);
        Assert.Equal(1e-2, opt.LearningRate);
        Assert.True(losses[^1] < losses[0] / 4, $"loss {losses[0]} -> {losses[^1]}");
        Assert.True(model.training);

        var (ex, ey) = Batch(32, new Random(6));
        var result = Evaluation.Run(model, [(ex[..16], ey[..16]), (ex[16..], ey[16..])], kind);
        var atOnce = Evaluation.Run(model, [(ex, ey)], kind);
        Assert.Equal(atOnce.Scores.Cast<float>(), result.Scores.Cast<float>(), (a, b) => Math.Abs(a - b) < 1e-5f);
        Assert.Equal(atOnce.Loss, result.Loss, 5);
        Assert.False(model.training);
        Assert.Equal(32, result.Scores.GetLength(0));
        Assert.All(result.Scores.Cast<float>(), s => Assert.InRange(s, 0f, 1f));   // sigmoid scores, as the reference
        Assert.True(result.Stats.Accuracy >= 0.95, $"accuracy {result.Stats.Accuracy}");
        Assert.True(result.Stats.MeanAuc >= 0.95, $"mAUC {result.Stats.MeanAuc}");
    }

    static (Tensor X, Tensor Y) Batch(int n, Random rng)
    {
        var x = new float[n * 8 * 4];
        var y = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            int label = i % 2;
            y[i * 2 + label] = 1;
            for (int t = 0; t < 8; t++)
                for (int f = 0; f < 4; f++)
                    x[(i * 8 + t) * 4 + f] = (float)(rng.NextDouble() - 0.5) + ((t < 4) == (label == 0) ? 1.5f : 0f);
        }
        return (tensor(x).reshape(n, 8, 4), tensor(y).reshape(n, 2));
    }

    [Fact]
    public void TheGradientNormIsTheL2NormOverEveryGradientAndClippingScalesThemAsClipGradNorm()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(2, 1);
        using (no_grad())
        {
            model.weight!.copy_(tensor(new float[] { 1, 2 }).reshape(1, 2));
            model.bias!.copy_(tensor(new float[] { 0 }));
        }
        model.forward(tensor(new float[] { 3, 4 }).reshape(1, 2)).sum().backward(); // gradients: weight (3, 4), bias 1
        Assert.Equal(Math.Sqrt(26), GradientNorm.Of(model), 6);
        GradientNorm.Clip(model, GradientNorm.Of(model), 100); // below the maximum: untouched
        Assert.Equal(new float[] { 3, 4 }, model.weight!.grad!.data<float>().ToArray());
        GradientNorm.Clip(model, Math.Sqrt(26), 1);
        Assert.Equal(1, GradientNorm.Of(model), 5);
        Assert.Equal(3 / Math.Sqrt(26), model.weight!.grad!.data<float>()[0], 5);
    }

    [Fact]
    public void AStepWhoseGradientIsNaNThrowsAndLeavesWeightsAndOptimiserStateAsTheyWere()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.Linear(4, 3));
        var optimizer = TrainingStep.CreateOptimizer(model, 1e-2);
        var exchange = new ActorTraining.Compute.Distributed.GradientExchange(model, null);
        var x = randn(2, 4);
        var y = tensor(new float[] { 1, 0, 0, 0, 1, 0 }).reshape(2, 3);
        Tensor Loss() => TrainingStep.Loss(model.forward(x), y, LossKind.CrossEntropy).mul(HeldTwo);
        TrainingStep.RunRank(model, optimizer, 2, Loss, exchange, 0, false); // one good step: state to keep
        var before = model.parameters().Select(p => p.detach().clone()).Concat(optimizer.StateTensors().Select(t => t.Tensor.clone())).ToList();
        long steps = optimizer.Steps;
        using var s = new ActorTraining.Compute.Runtime.ScalarScope();
        var first = model.parameters().First();
        var failure = Assert.Throws<NonFiniteStepException>(() =>
            TrainingStep.RunRank(model, optimizer, 2, () => Loss().add(first.mul(s.Of(0.0)).abs().sqrt().sum(), ActorTraining.Compute.Runtime.HeldScalars.One), exchange, 0, false));
        Assert.Equal("gradient norm", failure.Quantity);
        Assert.True(double.IsNaN(failure.Value));
        var after = model.parameters().Select(p => p.detach()).Concat(optimizer.StateTensors().Select(t => t.Tensor)).ToList();
        Assert.All(before.Zip(after), pair => Assert.True(pair.First.BitEqual(pair.Second)));
        Assert.Equal(steps, optimizer.Steps);
        Assert.Equal("loss", Assert.Throws<NonFiniteStepException>(() =>
            TrainingStep.RunRank(model, optimizer, 2, () => Loss().mul(s.Of(double.PositiveInfinity)), exchange, 0, false)).Quantity);
    }

    static readonly Scalar HeldTwo = 2.0.ToScalar();
}
