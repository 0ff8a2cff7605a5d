using Npgsql;

namespace ActorTraining.Actors;

/// <summary>
/// Akka.Persistence.Sql settings for a run: by default SQLite files in the run directory (journal and snapshot store
/// in separate files, one writer each — SQLite takes one writer at a time), or PostgreSQL by connection string; the
/// journal's events are written by <see cref="MessageSerializer"/> (stable manifests, not CLR type names).
/// </summary>
public static class PersistenceConfig
{
    public const string JournalFile = "journal.db";
    public const string SnapshotFile = "snapshots.db";

    /// <summary>Where a run's journal and snapshots are kept and through which linq2db provider; how many writers the journal takes.</summary>
    public sealed record Stores(string Journal, string Snapshots, string Provider, int Parallelism);

    public static Stores StoresOf(string runDirectory, string? postgresConnectionString = null) =>
        // linq2db's "PostgreSQL" asks the server for its version and picks the dialect (9.2 … 15+); tables are created
        // on first use (auto-initialize), so an empty database is enough. SQLite takes one writer at a time.
        postgresConnectionString is { Length: > 0 } pg
            ? new Stores(pg, pg, "PostgreSQL", 2)
            : new Stores(Sqlite(Path.Combine(runDirectory, JournalFile)), Sqlite(Path.Combine(runDirectory, SnapshotFile)), "SQLite.MS", 1);

    /// <summary>
    /// How long a recovery may wait for the journal before it counts as timed out: a minute, plus a second per MB of a
    /// SQLite journal. A cold start (schema check, the SQL layer's JIT) took 15–36 s under forced collections, where
    /// Akka's default 30 s failed 2 starts in 26.
    /// </summary>
    public static TimeSpan RecoveryTimeout(string runDirectory, string? postgresConnectionString = null)
    {
        var file = new FileInfo(Path.Combine(runDirectory, JournalFile));
        long bytes = postgresConnectionString is null && file.Exists ? file.Length : 0;
        return TimeSpan.FromSeconds(60 + bytes / 1e6);
    }

    /// <summary>
    /// Opens one connection to the PostgreSQL journal, so a wrong connection string, a server that is down or a missing
    /// database is a clear error naming the server — the persistence plugin itself would only let the first write time out.
    /// </summary>
    public static void CheckPostgres(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try { builder = new NpgsqlConnectionStringBuilder(connectionString); }
        catch (ArgumentException e)
        {
            throw new JournalUnavailableException(e.ParamName is { Length: > 0 } key
                ? $"--postgres: not a valid Npgsql connection string (keyword or value of '{key}' not understood)"
                : "--postgres: not a valid Npgsql connection string (expected Host=…;Port=…;Database=…;Username=…)", e);
        }
        var where = Describe(builder);
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or ArgumentException)
        {
            throw new JournalUnavailableException($"PostgreSQL journal at {where}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks that the run directory's SQLite journal and snapshot files, where they exist, are intact databases, so a
    /// damaged or foreign file is a clear error naming it — the persistence plugin would only log an initialisation
    /// failure and leave every read waiting for its timeout. A hot rollback journal left by a kill is rolled back here,
    /// as SQLite's first writer would.
    /// </summary>
    public static void CheckSqlite(string runDirectory)
    {
        foreach (var name in new[] { JournalFile, SnapshotFile })
        {
            var file = Path.Combine(Path.GetFullPath(runDirectory), name);
            if (!File.Exists(file)) continue;
            try
            {
                using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Mode=ReadWrite;Pooling=False");
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA quick_check";
                if (command.ExecuteScalar() is not "ok") throw new JournalUnavailableException($"{file}: the SQLite database is damaged (its integrity check failed); restore it from a backup, or use a new --run-dir", new InvalidDataException(file));
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                throw new JournalUnavailableException(e.SqliteErrorCode switch
                {
                    26 => $"{file}: not an SQLite database (the run's {(name == JournalFile ? "journal" : "snapshot store")} was overwritten or is another file)",
                    11 => $"{file}: the SQLite database is damaged; restore it from a backup, or use a new --run-dir",
                    5 or 6 => $"{file}: the SQLite database is locked by another process (is a `train` on this run directory still running?)",
                    _ => $"{file}: the SQLite database cannot be opened (SQLite error {e.SqliteErrorCode}); check the file and its permissions",
                }, e);
            }
        }
    }

    /// <summary>Where a PostgreSQL journal is, for messages: host, port and database — never the password.</summary>
    public static string Describe(string connectionString)
    {
        try { return "PostgreSQL journal at " + Describe(new NpgsqlConnectionStringBuilder(connectionString)); }
        catch (ArgumentException) { return "the PostgreSQL journal given by --postgres"; }
    }

    static string Describe(NpgsqlConnectionStringBuilder builder) => $"{builder.Host}:{builder.Port}/{builder.Database}";

    static string Sqlite(string file) => $"Data Source={Path.GetFullPath(file)}";

}
