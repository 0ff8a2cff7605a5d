using ActorTraining.Compute.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Host.Tests.Hygiene;

/// <summary>
/// Our code never calls a TorchSharp member that builds a temporary Scalar (<see cref="TorchSharpTemporaries"/>,
/// found in TorchSharp's IL): Compute, Actors and the host are read as IL and every such call is named with the
/// chain that makes it unsafe. The safe overloads to call instead are in one place, Compute/Runtime/HeldScalars.
/// </summary>
public sealed class TorchSharpTemporariesTests(ITestOutputHelper output)
{
    static readonly string[] OurAssemblies = ["ActorTraining.Compute.dll", "ActorTraining.Actors.dll", "actortraining.dll"];

    [Fact]
    public void OurCodeCallsNoTorchSharpMemberThatBuildsATemporaryScalar()
    {
        output.WriteLine($"{TorchSharpTemporaries.Members.Count} TorchSharp members build a temporary Scalar, directly or through others");
        var offenders = OurAssemblies.SelectMany(a => Offenders(Path.Combine(AppContext.BaseDirectory, a))).ToList();
        foreach (var o in offenders) output.WriteLine(o);
        Assert.True(offenders.Count == 0, $"{offenders.Count} call(s) of TorchSharp members that build a temporary Scalar:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void TheAnalysisFindsTheKnownOnesAndClearsTheSafeOverloads()
    {
        var members = TorchSharpTemporaries.Members;
        const string T = "TorchSharp.torch/Tensor";
        Assert.Contains($"{T}::add({T}) -> {T}", members.Keys);                        // add(target, 1)
        Assert.Contains($"{T}::op_Addition({T}, {T}) -> {T}", members.Keys);            // through add(Tensor)
        Assert.Contains($"{T}::square() -> {T}", members.Keys);                         // pow(2)
        Assert.Contains(members.Keys, k => k.StartsWith("TorchSharp.Modules.Adam::step(", StringComparison.Ordinal));
        Assert.DoesNotContain($"{T}::add({T}, TorchSharp.Scalar) -> {T}", members.Keys);
        Assert.DoesNotContain($"{T}::add_({T}, TorchSharp.Scalar) -> {T}", members.Keys);
        Assert.DoesNotContain($"{T}::mul({T}) -> {T}", members.Keys);
    }

    [Fact]
    public void TheScanSeesUnsafeCallsOnPurpose()
    {
        var offenders = Offenders(typeof(TorchSharpTemporariesTests).Assembly.Location).ToList();
        Assert.Contains(offenders, o => o.Contains(nameof(UnsafeSum)) && o.Contains("op_Addition"));
        Assert.Contains(offenders, o => o.Contains(nameof(UnsafeOptimiserStep)) && o.Contains("may dispatch to Modules."));
        Assert.DoesNotContain(offenders, o => o.Contains(nameof(SafeSum)));
    }

    static Tensor UnsafeSum(Tensor a, Tensor b) => a + b;

    static void UnsafeOptimiserStep(optim.Optimizer optimizer) => optimizer.step();

    static Tensor SafeSum(Tensor a, Tensor b) => a.Plus(b);

    static IEnumerable<string> Offenders(string assemblyPath)
    {
        using var scan = new IlScan(assemblyPath);
        foreach (var method in scan.Methods())
            foreach (var call in method.Calls)
                if (TorchSharpTemporaries.WhyUnsafe(call) is { } why)
                    yield return $"{method.Key}: calls {call.Key} — {why}";
    }
}
