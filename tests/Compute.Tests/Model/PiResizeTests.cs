using ActorTraining.Compute.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

[Collection(TorchGlobalRngCollection.Name)]
public class PiResizeTests(ITestOutputHelper output)
{
    // Token embedding of each patch under each output channel: [patches, D] (float64).
    private static Tensor Tokens(Tensor kernel, Tensor patches) =>
        patches.reshape(patches.shape[0], -1).to(float64).matmul(kernel.reshape(kernel.shape[0], -1).to(float64).t());

    // A patch's bilinear stretch, through torch's interpolate itself (not through PiResize.ResizeMatrix).
    private static Tensor Stretch(Tensor patches, int h, int w) =>
        nn.functional.interpolate(patches, new long[] { h, w }, mode: InterpolationMode.Bilinear, align_corners: false);

    private static double RelativeError(Tensor actual, Tensor expected) =>
        (actual - expected).norm().item<double>() / expected.norm().item<double>();

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EnlargedKernelKeepsEveryTokenOfTheStretchedPatch(int factor)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        var w = randn(32, 1, 16, 16);
        var x = randn(64, 1, 16, 16);
        var resized = PiResize.Resize(w, 16, 16 * factor);
        Assert.Equal(new long[] { 32, 1, 16, 16 * factor }, resized.shape);
        var error = RelativeError(Tokens(resized, Stretch(x, 16, 16 * factor)), Tokens(w, x));
        output.WriteLine($"16×16 → 16×{16 * factor}: relative token error {error:E2}");
        Assert.True(error < 1e-4, $"PI-resize token error {error}");

        var bilinearError = RelativeError(Tokens(PiResize.Bilinear(w, 16, 16 * factor), Stretch(x, 16, 16 * factor)), Tokens(w, x));
        output.WriteLine($"  plain bilinear: {bilinearError:E2}");
        Assert.True(bilinearError > 0.1, "the property is not trivially met by plain bilinear resize");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void ShrunkKernelBeatsPlainBilinear(int factor)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(12);
        var w = randn(32, 1, 16, 16 * factor);
        var x = randn(256, 1, 16, 16 * factor);
        var shrunkX = Stretch(x, 16, 16);
        var piError = RelativeError(Tokens(PiResize.Resize(w, 16, 16), shrunkX), Tokens(w, x));
        var bilinearError = RelativeError(Tokens(PiResize.Bilinear(w, 16, 16), shrunkX), Tokens(w, x));
        output.WriteLine($"16×{16 * factor} → 16×16: PI-resize {piError:F4}, bilinear {bilinearError:F4}");
        Assert.True(piError < bilinearError, $"PI {piError} vs bilinear {bilinearError}");
    }

    [Fact]
    public void ShrinkIsTheLeastSquaresSolution()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(13);
        var w = randn(4, 1, 6, 12, dtype: float64);
        var resized = PiResize.Resize(w, 6, 6).reshape(4, 36);
        var bt = PiResize.ResizeMatrix(6, 12, 6, 6).t(); // Bᵀ [72, 36]
        // Normal equations of min ‖Bᵀŵ − w‖: B(Bᵀŵ − w) = 0.
        var residual = bt.t().matmul(bt.matmul(resized.t()) - w.reshape(4, 72).t());
        Assert.True(residual.abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void ResizeMatrixIsTorchBilinear()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 1, 4, 5, dtype: float64);
        var viaMatrix = x.reshape(3, 20).matmul(PiResize.ResizeMatrix(4, 5, 4, 9).t());
        Assert.True((viaMatrix - Stretch(x, 4, 9).reshape(3, 36)).abs().max().item<double>() < 1e-12);
        Assert.True(PiResize.Resize(randn(2, 1, 4, 4), 4, 4).shape.SequenceEqual(new long[] { 2, 1, 4, 4 }));
    }
}
