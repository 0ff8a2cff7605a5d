using System.Diagnostics;
using System.Text.Json;
using ActorTraining.Actors;
using Npgsql;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// The run journal's PostgreSQL server goes away mid-epoch (stopped at once, as a crash or a fail-over would) and comes
/// back: training goes on meanwhile, the phase supervisor starts over once the database answers, takes the running
/// generation on as it is, and the commits the rank held are written then — the journal ends event for event as an
/// undisturbed run's, and the final checkpoint is the same file. Away longer than journal.outage-timeout-seconds, the
/// run stops with one sentence saying so, and the same command resumes it once the database is back.
/// </summary>
[Trait("Category", "Slow")] // PostgreSQL stopped and started: not in ./test --fast
[Collection(ClusterCollection.Name)]
public sealed class JournalOutageTests(ITestOutputHelper output, PostgresServer postgres) : IClassFixture<PostgresServer>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("journal-outage-").FullName;

    string Config()
    {
        var path = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(path, ClusterTests.Experiment);
        return path;
    }

    string[] TrainArgs(string runDir, params string[] more) =>
        ["train", "--config", Config(), "--run-dir", runDir, "--torch-threads", "1", "--postgres", postgres.ConnectionString, .. more];

    /// <summary>Starts `train` with a step trace; returns the process (its output collected) and the trace folder.</summary>
    (Process Process, Task<string> Output, string Trace) Start(string runDir, params string[] more)
    {
        var trace = Path.Combine(_dir, Path.GetFileName(runDir) + "-trace");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "actortraining.dll"));
        foreach (var a in TrainArgs(runDir, more)) psi.ArgumentList.Add(a);
        psi.Environment[StepTrace.Variable] = trace;
        var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        return (p, Task.WhenAll(stdout, stderr).ContinueWith(t => t.Result[0] + t.Result[1]), trace);
    }

    static void WaitForStep(string trace, long step, Process p)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline && !p.HasExited && !StepTrace.Read(trace).Any(l => l.Step >= step)) Thread.Sleep(50);
        Assert.True(StepTrace.Read(trace).Any(l => l.Step >= step), $"step {step} was not reached");
    }

    [Fact]
    public void ADatabaseRestartMidEpochEndsInTheRunAnUndisturbedOneEndsIn()
    {
        var straight = Path.Combine(_dir, "straight");
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(5), TrainArgs(straight));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);

        var disturbed = Path.Combine(_dir, "disturbed");
        var (p, text, trace) = Start(disturbed);
        WaitForStep(trace, 20, p); // past the first commits, mid-epoch
        var stoppedAt = StepTrace.Read(trace).Max(l => l.Step);
        postgres.Stop();
        Thread.Sleep(TimeSpan.FromSeconds(4));
        var trainedMeanwhile = StepTrace.Read(trace).Max(l => l.Step) - stoppedAt;
        postgres.Start();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "the run did not finish");
        var said = text.Result;
        Assert.True(p.ExitCode == 0, said);
        output.WriteLine($"database stopped after step {stoppedAt} for 4 s; the rank trained {trainedMeanwhile} steps meanwhile");
        output.WriteLine(string.Join("\n", said.Split('\n').Where(l => l.Contains("journal")).Take(6)));
        Assert.True(trainedMeanwhile > 0, "training stopped while the database was away");

        // each kind of event in order; how commits and evaluations interleave depends on timing in any run
        var a = Timeline(straight).ToLookup(e => e.Split(' ')[0]);
        var b = Timeline(disturbed).ToLookup(e => e.Split(' ')[0]);
        output.WriteLine($"journal events: {string.Join(", ", a.Select(k => $"{k.Count()} {k.Key}"))}; the disturbed run's generations: {string.Join(", ", b["generation"])}");
        Assert.Equal(a.Select(k => k.Key).Order(), b.Select(k => k.Key).Order());
        foreach (var kind in a) Assert.Equal(kind.ToList(), b[kind.Key].ToList());
        AssertSameEnd(straight, disturbed, phase: 1, epoch: 2, output, postgres.ConnectionString);
    }

    [Fact]
    public void ADatabaseAwayLongerThanTheTimeoutStopsTheRunWithASentenceAndTheCommandResumesIt()
    {
        var runDir = Path.Combine(_dir, "timeout");
        var (p, text, trace) = Start(runDir, "--set", "journal.outage-timeout-seconds=5");
        WaitForStep(trace, 20, p);
        postgres.Stop();
        try
        {
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "the run did not stop");
            var said = text.Result;
            output.WriteLine(said.Split('\n').Last(l => l.StartsWith("error:")));
            Assert.Equal(1, p.ExitCode);
            Assert.Contains("error: the run journal's database has been unreachable for", said);
            Assert.Contains("journal.outage-timeout-seconds = 5", said);
            Assert.Single(said.Split('\n'), l => l.StartsWith("error:"));
        }
        finally { postgres.Start(); }
        var again = Cli.RunIn(_dir, TimeSpan.FromMinutes(5), TrainArgs(runDir));
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.Single(JournalEvents(runDir, "RunStarted", postgres.ConnectionString));
        Assert.Single(JournalEvents(runDir, "RunCompleted", postgres.ConnectionString));
    }

    /// <summary>The run's journal in order, each event as what it says about the training (not its wall-clock fields).</summary>
    List<string> Timeline(string runDir)
    {
        var id = PhaseSupervisor.IdOf(RunIdentity.Read(runDir)!, 0);
        var byManifest = MessageSerializer.Manifests.ToDictionary(kv => kv.Value, kv => kv.Key.Name);
        using var connection = new NpgsqlConnection(postgres.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT manifest, message FROM journal WHERE persistence_id = @id ORDER BY ordering", connection);
        command.Parameters.AddWithValue("id", id);
        var events = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var e = JsonDocument.Parse((byte[])reader[1]).RootElement;
            string P(string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "";
            events.Add(byManifest[reader.GetString(0)] switch
            {
                "CheckpointCommitted" => $"commit phase {P("Phase")} epoch {P("Epoch")} step {P("Step")} position {P("DataPosition")} end {P("EpochComplete")} samples {P("EpochSamples")}",
                "EpochCompleted" => $"epoch phase {P("Phase")} epoch {P("Epoch")} metrics {P("Metrics")} samples {P("Samples")}",
                "GenerationFormed" => $"generation {P("Generation")} phase {P("Phase")} epoch {P("Epoch")} position {P("Position")} step {P("Step")} {P("StartedFrom")}",
                var type => type,
            });
        }
        return events;
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
