using Xunit.Abstractions;

namespace ActorTraining.Host.Tests.Hygiene;

/// <summary>
/// TorchSharp 0.107 turns a number used with a tensor (<c>x * 0.5</c>, <c>x.pow(2.0)</c>) into a temporary native
/// <c>Scalar</c> that nothing keeps alive: once its handle is passed on, the garbage collector may finalise it while
/// libtorch still reads it (dotnet/TorchSharp#1434). Seen here as "Unknown scalar type" from a spectrogram worker,
/// which stalled a run; a freed Scalar can as well be read as another number. So our code creates every Scalar
/// explicitly and holds it (ScalarScope, HeldScalars). This test reads the IL of Compute, Actors and the host and
/// names every method that calls the implicit conversion to Scalar or a Tensor operator taking a plain number.
/// (Conversions inside TorchSharp's own members are TorchSharpTemporariesTests' part.)
/// </summary>
public sealed class ImplicitScalarTests(ITestOutputHelper output)
{
    static readonly string[] OurAssemblies = ["ActorTraining.Compute.dll", "ActorTraining.Actors.dll", "actortraining.dll"];

    [Fact]
    public void OurCodeCreatesNoScalarImplicitly()
    {
        var offenders = OurAssemblies.SelectMany(a => Offenders(Path.Combine(AppContext.BaseDirectory, a))).ToList();
        foreach (var o in offenders) output.WriteLine(o);
        Assert.True(offenders.Count == 0, $"{offenders.Count} implicit Scalar(s):\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void TheScanFindsAnImplicitScalar()
    {
        // this very assembly has one, below: the scan must see it
        var offenders = Offenders(typeof(ImplicitScalarTests).Assembly.Location).ToList();
        Assert.Contains(offenders, o => o.Contains(nameof(Example)));
    }

    static TorchSharp.torch.Tensor Example(TorchSharp.torch.Tensor x) => x * 0.5;

    static readonly string[] Primitives = ["System.Double", "System.Single", "System.Int32", "System.Int64", "System.Boolean"];

    static IEnumerable<string> Offenders(string assemblyPath)
    {
        using var scan = new IlScan(assemblyPath);
        foreach (var method in scan.Methods())
            foreach (var call in method.Calls)
                if (IsImplicitScalar(call.Key))
                    yield return $"{method.Key}: {call.Key}";
    }

    static bool IsImplicitScalar(string key)
    {
        if (key.StartsWith("TorchSharp.Scalar::op_Implicit(", StringComparison.Ordinal)) return true;
        if (!key.StartsWith("TorchSharp.torch/Tensor::op_", StringComparison.Ordinal)) return false;
        var parameters = key[(key.IndexOf('(') + 1)..key.IndexOf(')')];
        return Primitives.Any(p => parameters.Contains(p, StringComparison.Ordinal));
    }
}
