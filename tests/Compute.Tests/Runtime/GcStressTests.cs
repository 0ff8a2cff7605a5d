using System.Diagnostics;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Runtime;

/// <summary>
/// Torch work while another thread forces gen-0 collections and finalizers in a tight loop (GcPressure), in a
/// child process (tests/GcStress), so that a use-after-free of a TorchSharp temporary (dotnet/TorchSharp#1434) shows
/// within seconds and ends that process, not the test runner. Before HeldScalars and AdamOptimizer, training steps
/// failed after 1.5–4.7 s and evaluation batches after 1.9–4.3 s ("Expected false to be true … toFloat").
/// Run alone (<see cref="GcStressCollection"/>): the race needs collections, and with other tests on the same two
/// cores the pressure thread managed 3 307 in 30 s instead of ~100 000 a second.
/// </summary>
[Trait("Category", "Slow")] // GC stress: not in ./test --fast
[Collection(GcStressCollection.Name)]
public sealed class GcStressTests(ITestOutputHelper output)
{
    [Fact]
    public void TrainingEvaluationFbankTransferRanksHtsatAndSsastSurviveForcedCollections()
    {
        var (code, line) = Run("training,evaluation,fbank,transfer,ranks,htsat,ssast", seconds: 28);
        Assert.True(code == 0, $"GC stress: {line}");
        Assert.StartsWith("ok:", line);
    }

    /// <summary>
    /// The control: the stress must find the race where it is known to be (TorchSharp's own a + b). A process finds it
    /// in its first second or hardly at all: every a + b leaves a Scalar for the finalizer, the queue soon outgrows the
    /// finalizer thread, and WaitForPendingFinalizers then throttles the collections (1 552 in 120 s once, against
    /// ~100 000 a second at the start). So: up to 10 fresh processes of 3 s each, until one fails.
    /// </summary>
    [Fact]
    public void TheStressFindsTheRaceInTorchSharpsOwnTensorAdd()
    {
        var (code, line) = (0, "");
        for (int attempt = 1; attempt <= 10 && code != 3; attempt++)
        {
            (code, line) = Run("tensor-add", seconds: 3);
            output.WriteLine($"attempt {attempt}: {line}");
        }
        Assert.True(code == 3, $"TorchSharp's a + b survived 10 × 3 s of GC stress ({line}): dotnet/TorchSharp#1434 may be fixed " +
            "upstream (then HeldScalars and AdamOptimizer can go), or the stress no longer finds the race");
        Assert.StartsWith("failed after", line);
    }

    (int Code, string Line) Run(string workloads, int seconds)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ActorTraining.GcStress.dll"));
        psi.ArgumentList.Add(workloads);
        psi.ArgumentList.Add(seconds.ToString());
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(seconds + 60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"GcStress {workloads} did not end within {seconds + 60} s");
        }
        var lines = (stdout.Result + stderr.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var l in lines) output.WriteLine(l);
        return (p.ExitCode, lines.LastOrDefault(l => l.StartsWith("ok:") || l.StartsWith("failed after")) ?? string.Join(" | ", lines.TakeLast(3)));
    }
}

/// <summary>The GC-stress tests run after every parallel test of the assembly, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GcStressCollection
{
    public const string Name = "gc-stress, alone";
}
