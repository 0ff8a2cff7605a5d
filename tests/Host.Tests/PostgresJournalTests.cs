using System.Diagnostics;
using ActorTraining.Actors;
using Npgsql;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// `train --postgres` and `status --postgres` against a private PostgreSQL server (<see cref="PostgresServer"/>):
/// a run completes and its status comes from the database; run directories sharing the database keep their own
/// journals; a run killed with SIGKILL mid-epoch and resumed ends with the same checkpoint as an uninterrupted one.
/// </summary>
[Trait("Category", "Slow")] // multi-process, PostgreSQL: not in ./test --fast
public sealed class PostgresJournalTests(PostgresServer server, ITestOutputHelper output) : IClassFixture<PostgresServer>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pg-journal-").FullName;

    // 72 clips, 9 steps an epoch, a mid-epoch commit every 4 steps
    const string Experiment = """
        data.synthetic { train-clips-per-class = 12, eval-clips-per-class = 2, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
        training { batch-size = 8, checkpoint-every-steps = 4, seed = 3 }
        front-end { mixup = 0.5 }
        curriculum = [
          { method = pool, factor = 2, epochs = 1, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 3, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    string Config()
    {
        var config = Path.Combine(_dir, "experiment.hocon");
        File.WriteAllText(config, Experiment);
        return config;
    }

    string[] TrainArgs(string runDir, params string[] more) =>
        ["train", "--config", Config(), "--run-dir", runDir, "--torch-threads", "1", "--postgres", server.ConnectionString, .. more];

    Cli.Result Train(string runDir, params string[] more)
    {
        var clock = Stopwatch.StartNew();
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(3), TrainArgs(runDir, more));
        output.WriteLine($"train {Path.GetFileName(runDir)}: exit {r.ExitCode}, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r;
    }

    Cli.Result Status(string runDir)
    {
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", runDir, "--postgres", server.ConnectionString);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r;
    }

    [Fact]
    public void TwoRunDirectoriesTrainedIntoOneDatabaseEachShowOnlyTheirOwnPhasesAndCheckpoints()
    {
        var a = Path.Combine(_dir, "a");
        var b = Path.Combine(_dir, "b");
        Train(a);
        var statusA = Status(a);
        output.WriteLine(statusA.Stdout);
        Assert.False(File.Exists(Path.Combine(a, PersistenceConfig.JournalFile)), "the journal went to SQLite, not PostgreSQL");
        Assert.Contains("run curriculum: completed", statusA.Stdout);
        Assert.Contains("phase 1: pool-max C=2", statusA.Stdout);
        Assert.Contains("phase 2: pool-max C=1", statusA.Stdout);
        Assert.Contains(Path.GetFileName(FinalCheckpoint(a, 1, 2, server.ConnectionString)), statusA.Stdout);
        Assert.Contains("resume point: phase 2, epoch 3", statusA.Stdout);

        // Another run directory, another seed, same database: a new run, not a resume of (or a collision with) run a.
        var trainB = Train(b, "--set", "training.seed=4");
        Assert.Contains("phase 1/2", trainB.Stdout);
        Assert.Equal(4, EpochMetrics(b, server.ConnectionString).Count);
        var statusB = Status(b);
        Assert.Contains(Path.GetFileName(FinalCheckpoint(b, 1, 2, server.ConnectionString)), statusB.Stdout);
        Assert.DoesNotContain(a + "/", statusB.Stdout);
        Assert.DoesNotContain(b + "/", Status(a).Stdout);
        Assert.Equal(statusA.Stdout, Status(a).Stdout);
        Assert.NotEqual(ConfigHashLine(statusA.Stdout), ConfigHashLine(statusB.Stdout));

        Assert.Single(JournalEvents(a, "RunStarted", server.ConnectionString));
        Assert.Single(JournalEvents(b, "RunStarted", server.ConnectionString));
        var ids = PersistenceIds();
        output.WriteLine($"persistence ids in the database: {string.Join(", ", ids)}");
        Assert.Contains(PhaseSupervisor.IdOf(RunIdentity.Read(a)!, 0), ids);
        Assert.Contains(PhaseSupervisor.IdOf(RunIdentity.Read(b)!, 0), ids);

        // the fence between two coordinators of one run: the journal's key refuses an event whose sequence number is taken
        var taken = Assert.Throws<PostgresException>(() => WriteAgain(PhaseSupervisor.IdOf(RunIdentity.Read(a)!, 0), 2));
        output.WriteLine(taken.MessageText);
        Assert.IsType<ActorTraining.Messages.JournalOvertaken>(JournalFailure.Report(taken, "write"));
    }

    /// <summary>Inserts a copy of the journal's event <paramref name="sequenceNumber"/> of <paramref name="persistenceId"/>, as a second writer would.</summary>
    void WriteAgain(string persistenceId, long sequenceNumber)
    {
        using var connection = new NpgsqlConnection(server.ConnectionString);
        connection.Open();
        using var columns = new NpgsqlCommand("SELECT string_agg(quote_ident(column_name), ',') FROM information_schema.columns " +
            "WHERE table_name = 'journal' AND column_name <> 'ordering'", connection);
        var list = (string)columns.ExecuteScalar()!;
        using var insert = new NpgsqlCommand($"INSERT INTO journal ({list}) SELECT {list} FROM journal WHERE persistence_id = @id AND sequence_number = @n", connection);
        insert.Parameters.AddWithValue("id", persistenceId);
        insert.Parameters.AddWithValue("n", sequenceNumber);
        Assert.Equal(1, insert.ExecuteNonQuery());
    }

    static string ConfigHashLine(string status) => status.Split('\n').First(l => l.StartsWith("run curriculum", StringComparison.Ordinal));

    List<string> PersistenceIds()
    {
        using var connection = new NpgsqlConnection(server.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT DISTINCT persistence_id FROM journal ORDER BY 1", connection);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    [Fact]
    public void ARunKilledMidEpochAndResumedAgainstPostgresEndsWithTheSameCheckpointAsAnUninterruptedOne()
    {
        var pg = server.ConnectionString;
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");
        Train(straight);

        var at = KillWhen(_dir, TrainArgs(killed), killed, pg, c => c is { Phase: 1, Epoch: 1, EpochComplete: false });
        output.WriteLine($"killed after the commit of {Path.GetFileName(at.Path)} (phase 2, epoch 2, position {at.DataPosition}, step {at.Step})");
        Assert.Empty(JournalEvents(killed, "RunCompleted", pg)); // the kill interrupted the run
        var last = Commits(killed, pg).Last();
        Assert.Contains($"resume point: phase {last.Phase + 1}, epoch {last.Epoch + 1}", Status(killed).Stdout);

        Train(killed);
        var commits = Commits(killed, pg);
        var next = commits[commits.IndexOf(last) + 1]; // the resumed process continued from the last commit, not from scratch
        Assert.True(next.Step > last.Step, $"resumed at step {next.Step} after the commit of step {last.Step}");
        Assert.Single(JournalEvents(killed, "RunStarted", pg));
        Assert.Single(JournalEvents(killed, "RunCompleted", pg));

        AssertSameEnd(straight, killed, phase: 1, epoch: 2, output, pg);
    }

    [Fact]
    public void AMissingDatabaseIsAClearErrorNamingTheServerNotATimeout()
    {
        var missing = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "no_such_database" }.ConnectionString;
        var clock = Stopwatch.StartNew();
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train", "--config", Config(), "--run-dir", Path.Combine(_dir, "nowhere"), "--postgres", missing);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {r.Stderr}");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"error: PostgreSQL journal at 127.0.0.1:{server.Port}/no_such_database", r.Stderr);
        Assert.Contains("does not exist", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "nowhere")), "nothing is created before the journal is known to be reachable");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
