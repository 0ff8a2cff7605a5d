using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests;

/// <summary>Proves the native backend loads on this machine (see build/TorchSharpNativeFix) and can train.</summary>
public class TorchSmokeTests
{
    [Fact]
    public void TensorsAutogradAndAnOptimizerStepRun()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var linear = nn.Linear(4, 1);
        var x = torch.randn(16, 4);
        var y = x.matmul(torch.tensor(new float[] { 1, -2, 3, 0.5f }).reshape(4, 1)) + 0.25f;
        var optimizer = optim.Adam(linear.parameters(), lr: 0.05);
        float first = 0, last = 0;
        for (int step = 0; step < 200; step++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(linear.forward(x), y);
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.NotNull(linear.weight!.grad);
        Assert.True(last < first / 100, $"loss {first} -> {last} did not fall 100x");
    }
}
