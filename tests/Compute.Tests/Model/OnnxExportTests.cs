using ActorTraining.Compute.Model;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

/// <summary>The exported graph run by ONNX Runtime (an independent implementation of every op) against TorchSharp's forward.</summary>
public sealed class OnnxExportTests(ITestOutputHelper output) : IDisposable
{
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("onnx-");

    public void Dispose() => _dir.Delete(recursive: true);

    static float[] Run(string path, Tensor input)
    {
        using var session = new InferenceSession(path);
        var x = new DenseTensor(input.contiguous().data<float>().ToArray(), input.shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, x)]);
        return results.Single(r => r.Name == "logits").AsEnumerable<float>().ToArray();
    }

    double MaxError(AstModel model, Tensor input, string name)
    {
        var path = Path.Combine(_dir.FullName, name + ".onnx");
        OnnxExport.Write(path, model);
        model.eval();
        float[] expected;
        using (no_grad()) expected = model.forward(input).contiguous().data<float>().ToArray();
        var actual = Run(path, input);
        Assert.Equal(expected.Length, actual.Length);
        double error = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{name}: max |ONNX Runtime − TorchSharp| = {error:E2} over {expected.Length} logits up to {expected.Max(Math.Abs):F3}");
        return error;
    }

    [Fact]
    public void TheReferenceFixtureModelGivesTheSameLogitsInOnnxRuntimeForAnyBatchSize()
    {
        using var scope = NewDisposeScope();
        using var model = new AstModel(new AstConfig(64, 2, 2, 5, MelBins: 128, TargetLength: 256, FStride: 10, TStride: 10));
        AstWeights.LoadPyTorch(model, AstFixtures.Path("ast_s10.pth"));
        var input = AstFixtures.ReadNpy("input.npy"); // [2, 256, 128]
        Assert.True(MaxError(model, input, "fixture") <= 1e-4);
        Assert.True(MaxError(model, cat(new[] { input, input[..1] }, 0), "fixture-batch-3") <= 1e-4);
    }

    [Fact]
    public void APatchPhaseGeometryWithRectangularPatchesExportsToo()
    {
        using var scope = NewDisposeScope();
        var config = new AstConfig(96, 2, 4, 6, MelBins: 64, TargetLength: 256, PatchF: 16, PatchT: 32, FStride: 16, TStride: 32);
        using var model = new AstModel(config); // any weights: the graph must compute what forward computes
        var input = randn(3, 256, 64);
        Assert.True(MaxError(model, input, "patch") <= 1e-4);
    }

    [Fact]
    public void MeanTokensPoolingExportsToo()
    {
        using var scope = NewDisposeScope();
        var config = new AstConfig(64, 2, 2, 5, MelBins: 128, TargetLength: 64, FStride: 16, TStride: 16, Pooling: AstPooling.MeanTokens);
        using var model = new AstModel(config);
        AstWeights.LoadPyTorch(model, AstFixtures.Path("ssast_finetune.pth", "ssast"));
        Assert.True(MaxError(model, AstFixtures.ReadNpy("input.npy", "ssast"), "mean-tokens") <= 1e-4);
    }

    [Fact]
    public void TheModelDeclaresItsInputsOutputsAndOpset()
    {
        using var model = new AstModel(new AstConfig(64, 1, 2, 5, MelBins: 64, TargetLength: 128, FStride: 16, TStride: 16));
        var path = Path.Combine(_dir.FullName, "io.onnx");
        OnnxExport.Write(path, model);
        using var session = new InferenceSession(path);
        Assert.Equal([-1, 128, 64], session.InputMetadata["input_values"].Dimensions);
        Assert.Equal([-1, 5], session.OutputMetadata["logits"].Dimensions);
        Assert.Equal("actortraining", session.ModelMetadata.ProducerName);
    }
}
