using System.Diagnostics;
using System.Text.Json;
using ActorTraining.Actors;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using Microsoft.Data.Sqlite;
using Npgsql;
using static TorchSharp.torch;

namespace ActorTraining.Host.Tests;

/// <summary>
/// What the kill-and-resume tests look at from outside a `train` process: the curriculum run's events as its journal
/// holds them (the run directory's SQLite file, or a PostgreSQL database), a child process killed with SIGKILL at a
/// chosen commit, and the final weights.
/// </summary>
public static class TrainedRunProbe
{
    public sealed record Commit(string Path, int Phase, int Epoch, long Step, long DataPosition, bool EpochComplete);

    /// <summary>`train` of <paramref name="config"/> into <paramref name="runDir"/> on one torch thread (bit-reproducible).</summary>
    public static string[] TrainArgs(string runDir, string config) => ["train", "--config", config, "--run-dir", runDir, "--torch-threads", "1"];

    /// <summary>`train` (<see cref="TrainArgs"/>) as a child process in <paramref name="workingDirectory"/>, which must succeed
    /// within four minutes (a resume included: it goes on from the run directory's journal).</summary>
    public static Cli.Result Train(string workingDirectory, string runDir, string config)
    {
        var result = Cli.RunIn(workingDirectory, TimeSpan.FromMinutes(4), TrainArgs(runDir, config));
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        return result;
    }

    /// <summary>
    /// Starts `actortraining <paramref name="args"/>` and kill -9s it at the first commit matching <paramref name="when"/>.
    /// The child stops itself (SIGSTOP) after each journaled commit (<see cref="FaultInjection"/>'s
    /// <c>supervisor.pause-after-commit</c>); this looks at the journal while it stands still and either kills it or
    /// lets it go on (SIGCONT) — watching a running process instead overshoots by several commits on a loaded machine.
    /// </summary>
    public static Commit KillWhen(string workingDirectory, string[] args, string runDir, string? postgres, Func<Commit, bool> when,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "actortraining.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        psi.ArgumentList.Add(dll);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment[FaultInjection.Variable] = "supervisor.pause-after-commit@1";
        var seen = Commits(runDir, postgres).LastOrDefault(); // a resumed run's journal already has commits
        using var child = Process.Start(psi)!;
        _ = child.StandardOutput.ReadToEndAsync();
        _ = child.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        Commit? at = null;
        try
        {
            while (at is null && !child.HasExited && DateTime.UtcNow < deadline)
            {
                if (!IsStopped(child.Id)) { Thread.Sleep(10); continue; }
                // the commit it stopped after; the journal may be briefly busy (another write of the process was
                // under way when it stopped, seen once on a loaded CI machine): retry, then let it run to its next stop
                Commit? latest = null;
                for (int attempt = 0; attempt < 40 && latest is null; attempt++)
                {
                    latest = Commits(runDir, postgres).LastOrDefault();
                    if (latest is null || latest.Path == seen?.Path) { latest = null; Thread.Sleep(50); }
                }
                if (latest is not null && when(latest)) at = latest;
                else
                {
                    seen = latest ?? seen;
                    Signal(child.Id, SigCont);
                }
            }
            Assert.True(at is not null, "the run never committed the awaited checkpoint before it ended");
            return at!;
        }
        finally
        {
            child.Kill(entireProcessTree: true); // SIGKILL: no shutdown hooks, no flush (a stopped process dies too)
            child.WaitForExit();
        }
    }

    static bool IsStopped(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T'); // the state field follows the "(comm)" field
        }
        catch (IOException) { return false; }
    }

    const int SigCont = 18; // Linux

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Signal(int pid, int signal);

    public static List<Commit> Commits(string runDir, string? postgres = null) => JournalEvents(runDir, "CheckpointCommitted", postgres).Select(e => new Commit(
        e.GetProperty("Path").GetString()!, Int(e, "Phase"), Int(e, "Epoch"), Int(e, "Step"), Int(e, "DataPosition"),
        e.TryGetProperty("EpochComplete", out var done) && done.GetBoolean())).ToList();

    public static List<string> EpochMetrics(string runDir, string? postgres = null) => JournalEvents(runDir, "EpochCompleted", postgres)
        .Select(e => $"{Int(e, "Phase")}/{Int(e, "Epoch")}: {e.GetProperty("Metrics").GetRawText()}").ToList();

    static int Int(JsonElement e, string name) => e.GetProperty(name).GetInt32();

    /// <summary>
    /// Events of type <paramref name="type"/> of the run directory's curriculum run, in journal order: read from its
    /// journal.db, or from PostgreSQL by the run directory's persistence id. Empty while nothing is written yet.
    /// </summary>
    public static List<JsonElement> JournalEvents(string runDir, string type, string? postgres = null)
    {
        var events = new List<JsonElement>();
        if (RunIdentity.Read(runDir) is not { } runId) return events;
        var id = PhaseSupervisor.IdOf(runId, 0);
        var manifest = MessageSerializer.Manifests.Single(kv => kv.Key.Name == type).Value;
        const string query = "SELECT message FROM journal WHERE persistence_id = @id AND manifest = @manifest ORDER BY ordering";
        try
        {
            if (postgres is null)
            {
                var file = Path.Combine(runDir, PersistenceConfig.JournalFile);
                if (!File.Exists(file)) return events;
                // Not read-only: after a kill -9 mid-write the journal may have a hot rollback journal, which only a
                // connection allowed to write can recover (a read-only one fails, and the poll would see no events).
                // A short busy timeout: a child stopped (SIGSTOP) while it held the write lock would otherwise keep each
                // poll waiting the default 30 s, and KillWhen's 40 retries 20 minutes, before it lets the child go on.
                using var connection = new SqliteConnection($"Data Source={file};Mode=ReadWrite;Default Timeout=1");
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = query;
                command.Parameters.AddWithValue("@id", id);
                command.Parameters.AddWithValue("@manifest", manifest);
                Read(command.ExecuteReader());
            }
            else
            {
                using var connection = new NpgsqlConnection(postgres);
                connection.Open();
                using var command = new NpgsqlCommand(query, connection);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("manifest", manifest);
                Read(command.ExecuteReader());
            }
        }
        catch (SqliteException) { } // busy or not created yet: try again on the next poll
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { } // not created yet
        return events;

        void Read(System.Data.Common.DbDataReader reader)
        {
            using (reader)
                while (reader.Read()) events.Add(JsonDocument.Parse((byte[])reader[0]).RootElement.Clone());
        }
    }

    /// <summary>The committed end-of-epoch checkpoint of the curriculum run's phase <paramref name="phase"/>, epoch <paramref name="epoch"/> (0-based).</summary>
    public static string FinalCheckpoint(string runDir, int phase, int epoch, string? postgres = null) =>
        Commits(runDir, postgres).Last(c => c.Phase == phase && c.Epoch == epoch && c.EpochComplete).Path;

    /// <summary>
    /// An interrupted-and-resumed run ended where the uninterrupted one did: the epoch-end checkpoint of (phase, epoch),
    /// both 0-based as in its file name, has the same weights bit for bit and is the same file (optimiser moments, LR-schedule position,
    /// torch RNG state); the journal recorded the same metrics for every epoch.
    /// </summary>
    public static void AssertSameEnd(string straight, string killed, int phase, int epoch, Xunit.Abstractions.ITestOutputHelper output,
        string? postgres = null)
    {
        var a = FinalCheckpoint(straight, phase, epoch, postgres);
        var b = FinalCheckpoint(killed, phase, epoch, postgres);
        var (equal, maxDiff) = CompareWeights(a, b);
        output.WriteLine($"final checkpoints: {Path.GetFileName(a)} sha {CheckpointFile.ReadHeader(a).Sha256[..16]}, " +
                         $"{Path.GetFileName(b)} sha {CheckpointFile.ReadHeader(b).Sha256[..16]}; weights equal: {equal}, max |diff| {maxDiff}");
        Assert.True(equal, $"final weights differ (max |diff| {maxDiff})");
        Assert.True(CheckpointFile.ReadHeader(a).Sha256 == CheckpointFile.ReadHeader(b).Sha256,
            $"final checkpoint files differ: {DescribeDifference(a, b)}");
        // by (phase, epoch): an epoch's evaluation runs beside the next epoch's training, so two may land in either order
        Assert.Equal(EpochMetrics(straight, postgres).Order(StringComparer.Ordinal), EpochMetrics(killed, postgres).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The model weights of two checkpoints (float32 tensors, as the head lists them), compared from the files' bytes:
    /// equal bit for bit, and the largest absolute difference. No libtorch in the test process.
    /// </summary>
    /// <summary>The model weights of a checkpoint (its float32 tensors in the head's order), read from the file's bytes.</summary>
    public static float[] Weights(string checkpoint)
    {
        var (head, tensors) = Sections(checkpoint);
        var list = JsonDocument.Parse(head).RootElement.GetProperty("Weights");
        long bytes = list.EnumerateArray().Sum(t => t.GetProperty("Shape").EnumerateArray().Aggregate(4L, (n, d) => n * d.GetInt64()));
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensors.AsSpan(0, (int)bytes)).ToArray();
    }

    /// <summary>‖a − b‖ / ‖a‖ over two weight vectors of the same model.</summary>
    public static double RelativeDistance(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double d = 0, n = 0;
        for (int i = 0; i < a.Length; i++) { d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]); n += (double)a[i] * a[i]; }
        return Math.Sqrt(d / n);
    }

    public static (bool Equal, double MaxDiff) CompareWeights(string a, string b)
    {
        var (ha, ta) = Sections(a);
        var (hb, tb) = Sections(b);
        var wa = JsonDocument.Parse(ha).RootElement.GetProperty("Weights");
        var wb = JsonDocument.Parse(hb).RootElement.GetProperty("Weights");
        if (wa.GetRawText() != wb.GetRawText()) return (false, double.PositiveInfinity); // other tensors or shapes
        long bytes = wa.EnumerateArray().Sum(t => t.GetProperty("Shape").EnumerateArray().Aggregate(4L, (n, d) => n * d.GetInt64()));
        bool equal = ta.AsSpan(0, (int)bytes).SequenceEqual(tb.AsSpan(0, (int)bytes));
        double max = 0;
        var fa = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(ta.AsSpan(0, (int)bytes));
        var fb = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tb.AsSpan(0, (int)bytes));
        for (int i = 0; i < fa.Length; i++) max = Math.Max(max, Math.Abs((double)fa[i] - fb[i]));
        return (equal, max);
    }

    /// <summary>Which parts of two checkpoint files differ: the head's fields (training position, RNG state, manifest, …), or the first tensor whose bytes differ.</summary>
    public static string DescribeDifference(string a, string b)
    {
        var (ha, ta) = Sections(a);
        var (hb, tb) = Sections(b);
        var parts = new List<string>();
        var ja = System.Text.Json.JsonDocument.Parse(ha).RootElement;
        var jb = System.Text.Json.JsonDocument.Parse(hb).RootElement;
        foreach (var field in ja.EnumerateObject())
        {
            if (field.Name == "Info")
            {
                foreach (var info in field.Value.EnumerateObject())
                    if (info.Value.GetRawText() != jb.GetProperty("Info").GetProperty(info.Name).GetRawText())
                        parts.Add($"info.{info.Name}: {Shorten(info.Value.GetRawText())} vs {Shorten(jb.GetProperty("Info").GetProperty(info.Name).GetRawText())}");
            }
            else if (field.Value.GetRawText() != jb.GetProperty(field.Name).GetRawText())
                parts.Add($"{field.Name}: {Shorten(field.Value.GetRawText())} vs {Shorten(jb.GetProperty(field.Name).GetRawText())}");
        }
        if (!ta.AsSpan().SequenceEqual(tb)) parts.Add($"tensor bytes ({ta.Length} vs {tb.Length}), first difference in {TensorAt(ja, FirstDifference(ta, tb))}");
        return parts.Count == 0 ? "no difference" : string.Join("; ", parts);

        static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
        static long FirstDifference(byte[] x, byte[] y)
        {
            int n = Math.Min(x.Length, y.Length);
            for (int i = 0; i < n; i++) if (x[i] != y[i]) return i;
            return n;
        }
        // the tensor holding byte `offset` of the tensor section, from the head's tensor lists (model, then optimiser)
        static string TensorAt(System.Text.Json.JsonElement head, long offset)
        {
            foreach (var list in new[] { "Weights", "OptimizerState" })
                foreach (var t in head.GetProperty(list).EnumerateArray())
                {
                    long bytes = t.GetProperty("Shape").EnumerateArray().Aggregate(1L, (n, d) => n * d.GetInt64()) * ElementSize(t.GetProperty("DType").GetInt32());
                    if (offset < bytes) return $"{list} {t.GetProperty("Name").GetString()}";
                    offset -= bytes;
                }
            return "past the last tensor";
        }
        static long ElementSize(int dtype) => (ScalarType)dtype switch
        {
            ScalarType.Float64 or ScalarType.Int64 => 8,
            ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
            ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
            _ => 4,
        };
    }

    // The file layout CheckpointFile writes: magic, version, the JSON head, the tensors' bytes, the 32-byte hash.
    static (string Head, byte[] Tensors) Sections(string path)
    {
        CheckpointFile.ReadHeader(path); // verifies the hash
        using var reader = new BinaryReader(File.OpenRead(path));
        reader.ReadString();
        reader.ReadInt32();
        var head = reader.ReadString();
        var tensors = reader.ReadBytes(checked((int)(reader.BaseStream.Length - reader.BaseStream.Position - 32)));
        return (head, tensors);
    }

}
