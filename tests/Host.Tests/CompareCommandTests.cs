using System.Text.Json;

namespace ActorTraining.Host.Tests;

public sealed class CompareCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("compare-verb-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A metrics.jsonl as RunLog writes it (one EpochRecord per line); per epoch 1e9/C FLOPs and 10/C seconds.
    string WriteRun(string name, string label, params (int Factor, int Epochs)[] phases)
    {
        var dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        var lines = new List<string>();
        double flops = 0, wall = 0, metric = 0.5;
        int runEpoch = 0;
        for (int p = 0; p < phases.Length; p++)
            for (int e = 1; e <= phases[p].Epochs; e++)
            {
                flops += 1e9 / phases[p].Factor; wall += 10.0 / phases[p].Factor; metric += 0.1; runEpoch++;
                lines.Add(JsonSerializer.Serialize(new
                {
                    Run = label, PhaseIndex = p, Method = "pool", Factor = phases[p].Factor, Pooling = "max", TokensPerClip = 64 / phases[p].Factor,
                    Epoch = e, RunEpoch = runEpoch, Step = runEpoch * 10L, Lr = 5e-4, TrainLoss = 1.0, EvalLoss = 1.0, MetricName = "accuracy",
                    Metric = metric, MeanAveragePrecision = metric, MeanAuc = 0.9, DPrime = 1.8, Accuracy = metric,
                    CumulativeFlops = flops, WallSeconds = wall, TrainerIdleSeconds = 1.0,
                }));
            }
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), lines);
        return dir;
    }

    [Fact]
    public void PrintsFractionsOfTheFirstRunAndWritesBothPlots()
    {
        var baseline = WriteRun("baseline", "baseline", (1, 4));
        var c2f = WriteRun("c2f", "pool-max 4→1", (4, 2), (1, 2));
        var prefix = Path.Combine(_dir, "out", "cmp");
        var r = Cli.Run("compare", baseline, c2f, "--out", prefix);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var c2fLine = r.Stdout.Split('\n').Single(l => l.StartsWith("pool-max 4→1"));
        Assert.Contains(" 0.625", c2fLine);   // FLOPs (0.25 + 0.25 + 1 + 1) / 4 GFLOP
        Assert.Contains("Reference (first run): baseline", r.Stdout);
        foreach (var png in new[] { prefix + "-flops.png", prefix + "-wall.png" })
            Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(png), 1, 3));
    }

    [Fact]
    public void AMissingRunDirectoryIsAnErrorNamingIt()
    {
        var missing = Path.Combine(_dir, "nope");
        var r = Cli.Run("compare", missing);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(missing, r.Stderr);
    }
}
