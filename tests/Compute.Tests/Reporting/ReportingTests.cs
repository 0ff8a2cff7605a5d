using ActorTraining.Compute.Reporting;

namespace ActorTraining.Compute.Tests.Reporting;

public sealed class ReportingTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("reporting-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Records of a run with the given phases (factor, epochs); each epoch costs 1e9/C FLOPs and 10/C s.</summary>
    public static List<EpochRecord> Run(string label, params (int Factor, int Epochs)[] phases)
    {
        var records = new List<EpochRecord>();
        double flops = 0, wall = 0, metric = 0.2;
        int runEpoch = 0;
        for (int p = 0; p < phases.Length; p++)
            for (int e = 1; e <= phases[p].Epochs; e++)
            {
                flops += 1e9 / phases[p].Factor; wall += 10.0 / phases[p].Factor; metric += 0.05; runEpoch++;
                records.Add(new EpochRecord(label, p, "pool", phases[p].Factor, "max", 64 / phases[p].Factor, e, runEpoch, runEpoch * 37L,
                    5e-4, 1.5 - metric, 1.6 - metric, "accuracy", metric, metric - 0.1, 0.9, 1.8, metric, flops, wall, 0.5 * runEpoch));
            }
        return records;
    }

    [Fact]
    public void RunLogWritesJsonlAndCsvAndReadsBackWithTheLastLineWinning()
    {
        var log = new RunLog(Path.Combine(_dir, "run"));
        var records = Run("pool-max 4→2→1", (4, 2), (1, 2));
        foreach (var r in records.Take(3)) log.Append(r);
        log.Append(records[2] with { Metric = 0.99 });     // resumed run logs epoch 1 of phase 1 again
        log.Append(records[3]);
        var back = log.Read();
        Assert.Equal(4, back.Count);
        Assert.Equal(0.99, back[2].Metric);
        Assert.Equal(records[0], back[0]);
        var csv = File.ReadAllLines(log.CsvPath);
        Assert.Equal(5, csv.Length);
        Assert.StartsWith("run,phase,method,factor,pooling,tokens_per_clip,epoch,run_epoch,step,lr,train_loss,eval_loss,metric_name,metric,", csv[0]);
        Assert.StartsWith("pool-max 4→2→1,1,pool,1,max,64,1,3,111,0.0005,", csv[3]);
        Assert.Contains(",0.99,", csv[3]);
        Assert.Equal(5, File.ReadAllLines(log.JsonlPath).Length);   // the JSONL keeps history; readers dedupe
    }

    [Fact]
    public void ATornLastLineIsIgnoredButABadMiddleLineNamesFileAndLine()
    {
        var log = new RunLog(_dir);
        var records = Run("x", (1, 2));
        log.Append(records[0]);
        log.Append(records[1]);
        File.AppendAllText(log.JsonlPath, "{\"Run\":\"x\",\"Phase");   // crash mid-write
        Assert.Equal(2, log.Read().Count);
        log.Append(records[1] with { Metric = 0.77 });                 // the resumed run drops the torn line
        Assert.Equal(3, File.ReadAllLines(log.JsonlPath).Length);
        Assert.Equal(0.77, log.Read()[1].Metric);
        File.WriteAllText(log.JsonlPath, "not json\n" + File.ReadAllText(log.JsonlPath));
        var e = Assert.Throws<InvalidDataException>(() => log.Read());
        Assert.Contains($"{log.JsonlPath}:1:", e.Message);
    }

    [Fact]
    public void SummaryHasOneRowPerPhaseWithItsOwnFlopsAndTime()
    {
        var records = Run("c2f", (4, 2), (2, 1), (1, 3));
        var rows = PhaseSummary.From(records);
        Assert.Equal([4, 2, 1], rows.Select(r => r.Factor));
        Assert.Equal([2, 1, 3], rows.Select(r => r.Epochs));
        Assert.Equal(2 * 1e9 / 4, rows[0].Flops, 3);
        Assert.Equal(1e9 / 2, rows[1].Flops, 3);
        Assert.Equal(3 * 10.0, rows[2].WallSeconds, 9);
        Assert.Equal(records[^1].Metric, rows[2].FinalMetric);
        var text = PhaseSummary.FormatTable("c2f", records, ["/data/bad.wav"]);
        Assert.Contains("pool-max", text);
        Assert.Contains("tokens/clip", text);
        Assert.Contains("4.00 GFLOP", text);   // 0.5 + 0.5 + 3 GFLOP in total
        Assert.Contains("/data/bad.wav", text);
        Assert.Contains("trainer idle: 3.0 s of 40.0 s", text);
    }

    [Fact]
    public void ComparisonGivesFractionsOfTheFirstRun()
    {
        var baseline = Run("baseline", (1, 4));
        var c2f = Run("pool-max 4→1", (4, 2), (1, 2));
        foreach (var (name, records) in new[] { ("a-baseline", baseline), ("b-c2f", c2f) })
        {
            var log = new RunLog(Path.Combine(_dir, name));
            foreach (var r in records) log.Append(r);
        }
        var runs = RunComparison.Load([_dir]);   // a folder of run directories, taken in name order
        Assert.Equal(["baseline", "pool-max 4→1"], runs.Select(r => r.Label));
        var table = RunComparison.FormatTable(runs);
        var c2fLine = table.Split('\n').Single(l => l.StartsWith("pool-max"));
        Assert.Contains(" 0.625 ", c2fLine + " ");   // FLOPs: (0.5 + 2) / 4
        Assert.Contains("25.0 s", c2fLine);            // wall: 2·2.5 + 2·10
        Assert.Contains("0.0000", table.Split('\n').Single(l => l.StartsWith("baseline")));
    }

    [Fact]
    public void OneDirectoryMayHoldTheCurriculumAndItsBaselineWhichBecomesTheReference()
    {
        var log = new RunLog(Path.Combine(_dir, "both"));
        var c2f = Run("pool-max 2→1", (2, 2), (1, 1));
        var baseline = Run("baseline", (1, 3));
        foreach (var r in c2f.Concat(baseline)) log.Append(r);
        log.Append(baseline[0] with { Metric = 0.5 });   // a repeated epoch only replaces its own run's line
        Assert.Equal(6, log.Read().Count);
        var runs = RunComparison.Load([Path.Combine(_dir, "both")]);
        Assert.Equal(["baseline", "pool-max 2→1"], runs.Select(r => r.Label));
        Assert.Equal(0.5, runs[0].Records[0].Metric);
        Assert.Equal(3, runs[1].Records.Count);
        Assert.StartsWith("Reference (first run): baseline", RunComparison.FormatTable(runs));
    }

    [Fact]
    public void PlotsAreWrittenAsPngsOfTheRequestedSize()
    {
        var runs = new[]
        {
            new RunSeries("baseline", _dir, Run("baseline", (1, 6))),
            new RunSeries("pool-max 4→2→1", _dir, Run("pool-max 4→2→1", (4, 2), (2, 2), (1, 2))),
        };
        var files = MetricPlots.Write(runs, Path.Combine(_dir, "plots", "cmp"), 800, 500);
        foreach (var f in new[] { files.VersusFlops, files.VersusWallTime })
        {
            var bytes = File.ReadAllBytes(f);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(500, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
            Assert.True(bytes.Length > 10_000, $"{f}: {bytes.Length} bytes — nothing drawn?");
        }
    }
}
