using System.Collections.Concurrent;
using System.Diagnostics;
using ActorTraining.Host.Tests.Fuzz;
using Xunit.Abstractions;

namespace ActorTraining.Host.Tests;

/// <summary>
/// Bounded, seeded random and adversarial input for every verb, through the real executable (see <see cref="FuzzCases"/>).
/// Every case must end — success where the input is legal, else a non-zero exit with one `error:` line on stderr — with
/// no exception type, internal message or stack trace anywhere in the output, and leave the trained run directory it
/// points at as it was. ACTORTRAINING_FUZZ_SEED and ACTORTRAINING_FUZZ_CASES reproduce or widen a run.
/// </summary>
[Trait("Category", "Slow")] // fuzz: not in ./test --fast
public sealed class CliFuzzTests(TrainedRunFixture run, ITestOutputHelper output) : IClassFixture<TrainedRunFixture>, IDisposable
{
    const int DefaultSeed = 20261202, DefaultCases = 240;
    static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(90);
    readonly string _scratch = Directory.CreateTempSubdirectory("cli-fuzz-").FullName;

    static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

    [Fact]
    public void EveryVerbAnswersBadInputWithOneSentenceAndLeavesTheRunAlone()
    {
        Assert.True(run.Train.ExitCode == 0, run.Train.Stdout + run.Train.Stderr);
        int seed = FromEnvironment("ACTORTRAINING_FUZZ_SEED", DefaultSeed), count = FromEnvironment("ACTORTRAINING_FUZZ_CASES", DefaultCases);
        var trusted = RunDirectoryState.Of(run.RunDir);
        var cases = new FuzzCases(run, _scratch, seed).Generate(count).ToList();
        var violations = new ConcurrentBag<string>();
        var exits = new ConcurrentDictionary<string, int>();
        var examples = new ConcurrentDictionary<string, string>();
        var clock = Stopwatch.StartNew();
        var gate = new object();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = 2 }, c =>
        {
            Cli.Result? result;
            try { result = Cli.RunIn(_scratch, CaseLimit, c.Args); }
            catch (TimeoutException) { result = null; }
            exits.AddOrUpdate($"{c.Kind} exit {result?.ExitCode.ToString() ?? "timeout"}", 1, (_, n) => n + 1);
            if (result is { ExitCode: not 0 }) examples.TryAdd($"{c.Kind}: {c.Description}", result.Stderr.Trim());
            var problem = c.Violation(result);
            if (problem is null && c.ProtectedRun is not null)
                lock (gate)
                    if (RunDirectoryState.Of(c.ProtectedRun) != trusted) problem = "changed what a resume of the trained run trusts";
            if (problem is not null)
                violations.Add($"case {c.Index} ({c.Kind}: {c.Description}) `{string.Join(' ', c.Args.Select(Quote))}`: {problem}");
        });
        output.WriteLine($"seed {seed}: {cases.Count} cases in {clock.Elapsed.TotalSeconds:F0} s");
        foreach (var (outcome, n) in exits.OrderBy(x => x.Key)) output.WriteLine($"  {outcome}: {n}");
        foreach (var (input, answer) in examples.OrderBy(x => x.Key)) output.WriteLine($"  {input} → {answer}");
        foreach (var v in violations.OrderBy(v => v)) output.WriteLine(v);
        if (!violations.IsEmpty) Assert.Fail($"{violations.Count} of {cases.Count} cases (seed {seed}) misbehaved; first: {violations.OrderBy(v => v).First()}");
        Assert.Equal(trusted, RunDirectoryState.Of(run.RunDir));
    }

    static string Quote(string a) => a.Length > 80 ? $"'{a[..80]}…'" : a.Contains(' ') || a.Length == 0 ? $"'{a}'" : a;

    public void Dispose()
    {
        try { Directory.Delete(_scratch, true); } catch (IOException) { }
    }
}
