using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace ActorTraining.Host.Tests.Fuzz;

/// <summary>
/// What a resume of a run directory trusts, as one digest: every journal and snapshot row, the run id, the stored
/// experiment and every checkpoint file's bytes. Two equal digests: nothing a later resume would read has changed.
/// </summary>
public static class RunDirectoryState
{
    public static string Of(string runDir)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => sha.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        foreach (var (db, table) in new[] { ("journal.db", "journal"), ("snapshots.db", "snapshot") })
        {
            var file = Path.Combine(runDir, db);
            if (!File.Exists(file)) { Add($"no {db}"); continue; }
            using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{table}'";
            if (command.ExecuteScalar() is null) { Add($"no {table} table"); continue; }
            command.CommandText = $"SELECT * FROM {table} ORDER BY 1, 2, 3";
            using var reader = command.ExecuteReader();
            while (reader.Read())
                for (int c = 0; c < reader.FieldCount; c++)
                    Add(reader.GetValue(c) is byte[] bytes ? Convert.ToHexString(bytes) : reader.GetValue(c).ToString() ?? "");
        }
        foreach (var name in new[] { "run-id", "experiment.json" })
            Add(File.Exists(Path.Combine(runDir, name)) ? File.ReadAllText(Path.Combine(runDir, name)) : $"no {name}");
        var checkpoints = Path.Combine(runDir, "checkpoints");
        foreach (var file in (Directory.Exists(checkpoints) ? Directory.GetFiles(checkpoints) : []).Order(StringComparer.Ordinal))
            Add(Path.GetFileName(file) + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))));
        return Convert.ToHexString(sha.GetHashAndReset());
    }
}
