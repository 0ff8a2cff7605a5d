using Akka.Configuration;
using Akka.Persistence.Sql;

namespace ActorTraining.Actors;

/// <summary>
/// Akka.Persistence.Sql settings for a run: by default SQLite files in the run directory (journal and snapshot store
/// in separate files, one writer each — SQLite takes one writer at a time), or PostgreSQL by connection string.
/// </summary>
public static class PersistenceConfig
{
    public const string JournalFile = "journal.db";
    public const string SnapshotFile = "snapshots.db";

    public static Config ForRun(string runDirectory, string? postgresConnectionString = null)
    {
        var (journal, snapshots, provider, parallelism) = postgresConnectionString is { Length: > 0 } pg
            ? (pg, pg, "PostgreSQL", 2)
            : (Sqlite(Path.Combine(runDirectory, JournalFile)), Sqlite(Path.Combine(runDirectory, SnapshotFile)), "SQLite.MS", 1);
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{Quote(journal)}}
                  provider-name = "{{provider}}"
                  parallelism = {{parallelism}}
                  auto-initialize = true
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{Quote(snapshots)}}
                  provider-name = "{{provider}}"
                  auto-initialize = true
                }
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    static string Sqlite(string file) => $"Data Source={Path.GetFullPath(file)}";

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
