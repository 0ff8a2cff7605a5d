namespace ActorTraining.Host.Tests.Hygiene;

/// <summary>
/// A rank's torch code — the trainer's session and the evaluator — creates no tensor but through its RankDevice, so
/// a CUDA build never computes a batch on the CPU by accident: their IL (lambdas and iterators included) calls no
/// TorchSharp tensor factory directly. (The data pipeline's workers compute on the CPU on purpose, and are not listed.)
/// </summary>
public sealed class RankDeviceTests
{
    static readonly string[] RankTypes = ["ActorTraining.Actors.TrainingSession", "ActorTraining.Actors.Evaluator"];

    static readonly string[] Factories =
        ["tensor", "zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "linspace", "eye", "from_array", "as_tensor", "zeros_like", "ones_like"];

    static IEnumerable<string> DirectFactories(string assemblyPath, IReadOnlyList<string> types)
    {
        using var scan = new IlScan(assemblyPath);
        foreach (var method in scan.Methods().Where(m => types.Any(t => m.DeclaringType == t || m.DeclaringType.StartsWith(t + "/", StringComparison.Ordinal))))
            foreach (var call in method.Calls)
                if (call.Key.StartsWith("TorchSharp.torch::", StringComparison.Ordinal)
                    && Factories.Contains(IlScan.Split(call.Key).Member[2..].Split('(')[0]))
                    yield return $"{method.Key}: {call.Key}";
    }

    [Fact]
    public void TheTrainerAndTheEvaluatorMakeTensorsOnlyThroughTheirDevice()
    {
        var found = DirectFactories(Path.Combine(AppContext.BaseDirectory, "ActorTraining.Actors.dll"), RankTypes).ToList();
        Assert.True(found.Count == 0, "tensor factories called directly:\n" + string.Join("\n", found));
    }

    [Fact]
    public void TheScanSeesADirectFactory()
    {
        var found = DirectFactories(typeof(RankDeviceTests).Assembly.Location, [typeof(Example).FullName!.Replace("+", "/")]).ToList();
        Assert.Contains(found, f => f.Contains("::tensor("));
    }

    static class Example
    {
        public static TorchSharp.torch.Tensor Make() => TorchSharp.torch.tensor(new float[] { 1 }, [1]);
    }
}
