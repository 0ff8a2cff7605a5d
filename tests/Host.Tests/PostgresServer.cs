using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A private throwaway PostgreSQL server for one test class: Debian's binaries (scripts/ensure-machine installs them),
/// a cluster initialised in a temp folder, trust authentication, listening only on 127.0.0.1 on a free port and on a
/// unix socket in that folder, one database. initdb and postgres refuse to run as root, so as root they run as the
/// `postgres` system user. Dispose stops the server and deletes the folder.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    const string Database = "actortraining";
    readonly string _bin;
    readonly string _dir;
    readonly string _data;
    readonly bool _asRoot = Environment.UserName == "root";

    public int Port { get; }
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={Database}";

    public PostgresServer()
    {
        _bin = FindBinaries();
        _dir = Directory.CreateTempSubdirectory("pg-").FullName;
        _data = Path.Combine(_dir, "data");
        try
        {
            if (_asRoot) Run("chown", "postgres:postgres", _dir);
            Run(AsServerUser(Path.Combine(_bin, "initdb"), "-D", _data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"));
            // nodes of the partition tests reach it from their own loopback addresses (LoopbackPartition)
            File.AppendAllText(Path.Combine(_data, "pg_hba.conf"), "host all all 127.0.0.0/8 trust\n");
            Port = LoopbackPorts.Free();
            Start();
            using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false");
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
            create.ExecuteNonQuery();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The newest /usr/lib/postgresql/&lt;version&gt;/bin holding initdb; a clear failure, not a skip, without one.</summary>
    static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(x => File.Exists(Path.Combine(x.Dir, "initdb")) && File.Exists(Path.Combine(x.Dir, "pg_ctl")))
                .OrderByDescending(x => x.Version).Select(x => x.Dir).FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries (initdb, pg_ctl) not found under {root}/<version>/bin: run scripts/ensure-machine (installs Debian's postgresql)");
    }

    string[] AsServerUser(params string[] command) => _asRoot ? ["runuser", "-u", "postgres", "--", .. command] : command;

    static void Run(params string[] command)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in command[1..]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', command)} did not finish in 60 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', command)} exited with {p.ExitCode}: {stdout.Result}{stderr.Result}");
    }

    /// <summary>Starts the server (again, after <see cref="Stop"/>: the same data, port and database).</summary>
    public void Start()
    {
        // fsync off: an immediate stop ends the server's processes, not the machine, so what they wrote is in the OS's
        // page cache and stays; durability across a machine crash is not in play here
        Run(AsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "30",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {_dir} -c fsync=off -c full_page_writes=off", "start"));
        Npgsql.NpgsqlConnection.ClearAllPools(); // this process's pooled connections, if any, went with the server before
    }

    /// <summary>Stops the server at once, as a fail-over or a crash would (clients' connections are cut; committed data stays).</summary>
    public void Stop() => Run(AsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "-w", "stop"));

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(_data, "postmaster.pid")))
                Run(AsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "-w", "stop"));
        }
        finally
        {
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }
}
