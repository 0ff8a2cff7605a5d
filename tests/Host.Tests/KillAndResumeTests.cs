using System.Diagnostics;
using System.Text.Json;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Host.Tests;

/// <summary>
/// `train` as a real child process, killed with SIGKILL mid-phase and mid-epoch (right after the journal committed a
/// mid-epoch checkpoint — once in the first phase, then again after a rerun in the second), then rerun to completion
/// on the same run directory. Its final weights
/// must equal, bit for bit, those of an uninterrupted run with the same configuration (libtorch fixed to one thread).
/// </summary>
public sealed class KillAndResumeTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kill-resume-").FullName;

    const string Experiment = """
        data.synthetic { train-clips-per-class = 20, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 8, checkpoint-every-steps = 3, seed = 3 }
        front-end { mixup = 0.5 }
        curriculum = [
          { method = pool, factor = 2, epochs = 2, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 3, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    string[] TrainArgs(string runDir, string config) => ["train", "--config", config, "--run-dir", runDir, "--torch-threads", "1"];

    [Fact]
    public void AKilledRunResumedToTheEndHasTheSameFinalWeightsAsAnUninterruptedOne()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");

        var clock = Stopwatch.StartNew();
        var reference = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(straight, config));
        Assert.True(reference.ExitCode == 0, reference.Stdout + reference.Stderr);
        output.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s");

        // Start the same training and kill -9 it once the journal holds a mid-epoch checkpoint of phase 1, epoch 2;
        // rerun and kill again at a mid-epoch checkpoint of phase 2, epoch 2; then rerun to the end.
        var first = KillWhen(killed, config, c => c is { Phase: 0, Epoch: 1, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(first.Path)} (phase 1, epoch 2, position {first.DataPosition}, step {first.Step})");
        var second = KillWhen(killed, config, c => c is { Phase: 1, Epoch: 1, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(second.Path)} (phase 2, epoch 2, position {second.DataPosition}, step {second.Step})");
        var last = Commits(killed).Last();
        Assert.Equal(1, last.Phase);
        Assert.False(last.EpochComplete);
        Assert.True(last.DataPosition > 0);

        var status = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", killed);
        Assert.Equal(0, status.ExitCode);
        output.WriteLine(status.Stdout);
        Assert.Contains("resume point: phase 2, epoch 2", status.Stdout);

        var resumed = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(killed, config));
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        var commits = Commits(killed);
        var next = commits[commits.IndexOf(last) + 1]; // the resumed process continued from the last commit, not from scratch
        Assert.Equal((1, 1), (next.Phase, next.Epoch));
        Assert.True(next.Step > last.Step && next.DataPosition > last.DataPosition);
        Assert.Single(JournalEvents(killed, "RunStarted"));

        var a = FinalCheckpoint(straight);
        var b = FinalCheckpoint(killed);
        var (equal, maxDiff) = CompareWeights(a, b);
        output.WriteLine($"final checkpoints: {Path.GetFileName(a)} sha {CheckpointFile.ReadHeader(a).Sha256[..16]}, " +
                         $"{Path.GetFileName(b)} sha {CheckpointFile.ReadHeader(b).Sha256[..16]}; weights equal: {equal}, max |diff| {maxDiff}");
        Assert.True(equal, $"final weights differ (max |diff| {maxDiff})");
        // and so is everything else in the file: optimiser moments, LR-schedule position, torch RNG state
        Assert.Equal(CheckpointFile.ReadHeader(a).Sha256, CheckpointFile.ReadHeader(b).Sha256);
        // the metrics the journal recorded for every epoch agree too
        Assert.Equal(EpochMetrics(straight), EpochMetrics(killed));
    }

    Commit KillWhen(string runDir, string config, Func<Commit, bool> when)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "actortraining.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        psi.ArgumentList.Add(dll);
        foreach (var arg in TrainArgs(runDir, config)) psi.ArgumentList.Add(arg);
        using var child = Process.Start(psi)!;
        _ = child.StandardOutput.ReadToEndAsync();
        _ = child.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        Commit? at = null;
        while (at is null && !child.HasExited && DateTime.UtcNow < deadline)
        {
            at = Commits(runDir).FirstOrDefault(when);
            if (at is null) Thread.Sleep(20);
        }
        Assert.True(at is not null, "the run never committed the awaited checkpoint before it ended");
        child.Kill(entireProcessTree: true); // SIGKILL: no shutdown hooks, no flush
        child.WaitForExit();
        return at!;
    }

    sealed record Commit(string Path, int Phase, int Epoch, long Step, long DataPosition, bool EpochComplete);

    static List<Commit> Commits(string runDir) => JournalEvents(runDir, "CheckpointCommitted").Select(e => new Commit(
        e.GetProperty("Path").GetString()!, Int(e, "Phase"), Int(e, "Epoch"), Int(e, "Step"), Int(e, "DataPosition"),
        e.TryGetProperty("EpochComplete", out var done) && done.GetBoolean())).ToList();

    static List<string> EpochMetrics(string runDir) => JournalEvents(runDir, "EpochCompleted")
        .Select(e => $"{Int(e, "Phase")}/{Int(e, "Epoch")}: {e.GetProperty("Metrics").GetRawText()}").ToList();

    // Newtonsoft (Akka's default serializer) leaves out default values and wraps ints as {"$":"I5"}.
    static int Int(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return 0;
        if (v.ValueKind == JsonValueKind.Number) return v.GetInt32();
        var s = v.GetProperty("$").GetString()!;
        return int.Parse(s[1..]);
    }

    static List<JsonElement> JournalEvents(string runDir, string type)
    {
        var file = Path.Combine(runDir, "journal.db");
        var events = new List<JsonElement>();
        if (!File.Exists(file)) return events;
        try
        {
            using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT message FROM journal ORDER BY ordering";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var json = JsonDocument.Parse((byte[])reader[0]).RootElement;
                if (json.GetProperty("$type").GetString()!.StartsWith($"ActorTraining.Messages.{type},", StringComparison.Ordinal))
                    events.Add(json.Clone());
            }
        }
        catch (SqliteException) { } // busy or not created yet: try again on the next poll
        return events;
    }

    static string FinalCheckpoint(string runDir) =>
        Directory.GetFiles(Path.Combine(runDir, "checkpoints"), "r0-p1-e2-*-end.ckpt").Single();

    static (bool Equal, double MaxDiff) CompareWeights(string a, string b)
    {
        using var ma = Load(a);
        using var mb = Load(b);
        var da = ma.state_dict();
        var db = mb.state_dict();
        bool equal = da.Keys.SequenceEqual(db.Keys);
        double max = 0;
        foreach (var key in da.Keys)
        {
            equal &= da[key].eq(db[key]).all().item<bool>();
            max = Math.Max(max, (da[key] - db[key]).abs().max().item<float>());
        }
        return (equal, max);
    }

    static AstModel Load(string path)
    {
        var model = new AstModel(CheckpointFile.ReadHeader(path).Model);
        using var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
        CheckpointFile.Load(path, model, optimizer);
        return model;
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
