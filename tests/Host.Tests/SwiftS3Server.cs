using Amazon.S3;
using Amazon.S3.Model;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A real S3 endpoint on 127.0.0.1: OpenStack Swift (Debian's swift packages, scripts/ensure-machine installs them) with
/// one replica of each ring on a folder of its own, its proxy running the s3api middleware, and tempauth's user
/// test:tester / testing as the access key and secret. memcached holds tempauth's tokens. Dispose stops it all and
/// deletes the folder. <see cref="Environment"/> is what a child process needs to reach it the standard AWS way.
/// </summary>
public sealed class SwiftS3Server : IDisposable
{
    const string AccessKey = "test:tester", SecretKey = "testing";
    readonly string _dir = Directory.CreateTempSubdirectory("swift-").FullName;
    readonly List<(ServerProcess Process, int Port)> _servers = [];

    public int Port { get; } = LoopbackPorts.Free();

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["AWS_ENDPOINT_URL"] = $"http://127.0.0.1:{Port}",
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_REGION"] = "us-east-1",
    };

    public SwiftS3Server()
    {
        try
        {
            var etc = Directory.CreateDirectory(Path.Combine(_dir, "etc")).FullName;
            var devices = Directory.CreateDirectory(Path.Combine(_dir, "srv")).FullName;
            Directory.CreateDirectory(Path.Combine(devices, "d1"));
            int memcached = LoopbackPorts.Free();
            File.WriteAllText(Path.Combine(etc, "swift.conf"),
                "[swift-hash]\nswift_hash_path_suffix = actortraining\nswift_hash_path_prefix = tests\n[storage-policy:0]\nname = gold\ndefault = yes\n");
            var common = $"[DEFAULT]\ndevices = {devices}\nmount_check = false\nbind_ip = 127.0.0.1\nworkers = 0\nlog_level = WARNING\ndisable_fallocate = true\nswift_dir = {etc}\n";
            var ports = new Dictionary<string, int>();
            foreach (var ring in new[] { "account", "container", "object" })
            {
                ports[ring] = LoopbackPorts.Free();
                File.WriteAllText(Path.Combine(etc, $"{ring}-server.conf"),
                    $"{common}bind_port = {ports[ring]}\n[pipeline:main]\npipeline = {ring}-server\n[app:{ring}-server]\nuse = egg:swift#{ring}\n");
                Python(etc, "/usr/bin/swift-ring-builder", $"{ring}.builder", "create", "4", "1", "1");
                Python(etc, "/usr/bin/swift-ring-builder", $"{ring}.builder", "add", $"r1z1-127.0.0.1:{ports[ring]}/d1", "1");
                Python(etc, "/usr/bin/swift-ring-builder", $"{ring}.builder", "rebalance");
            }
            File.WriteAllText(Path.Combine(etc, "proxy-server.conf"), $$"""
                [DEFAULT]
                bind_ip = 127.0.0.1
                bind_port = {{Port}}
                workers = 0
                # the suite runs test classes side by side on 2 cores: the proxy's default 0.5 s to reach a storage
                # server ran out under that load and became 503 SlowDown for an upload
                conn_timeout = 10
                node_timeout = 60
                log_level = WARNING
                swift_dir = {{etc}}
                [pipeline:main]
                pipeline = catch_errors proxy-logging cache s3api tempauth proxy-logging proxy-server
                [app:proxy-server]
                use = egg:swift#proxy
                account_autocreate = true
                [filter:catch_errors]
                use = egg:swift#catch_errors
                [filter:proxy-logging]
                use = egg:swift#proxy_logging
                [filter:cache]
                use = egg:swift#memcache
                memcache_servers = 127.0.0.1:{{memcached}}
                [filter:s3api]
                use = egg:swift#s3api
                location = us-east-1
                [filter:tempauth]
                use = egg:swift#tempauth
                user_test_tester = {{SecretKey}} .admin
                """);
            Add(new ServerProcess("memcached", _dir, "/usr/bin/memcached", "-u", "root", "-l", "127.0.0.1", "-p", memcached.ToString(), "-U", "0"), memcached);
            foreach (var ring in new[] { "account", "container", "object" })
                Add(new ServerProcess(ring, _dir, "/usr/bin/python3", $"/usr/bin/swift-{ring}-server", Path.Combine(etc, $"{ring}-server.conf")), ports[ring]);
            Add(new ServerProcess("proxy", _dir, "/usr/bin/python3", "/usr/bin/swift-proxy-server", Path.Combine(etc, "proxy-server.conf")), Port);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    void Add(ServerProcess process, int port)
    {
        _servers.Add((process, port));
        process.Start(port);
    }

    static void Python(string dir, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60))) { p.Kill(true); throw new TimeoutException(string.Join(' ', args)); }
        if (p.ExitCode > 1) throw new InvalidOperationException($"{string.Join(' ', args)}: {output.Result}{error.Result}"); // rebalance exits 1 with a warning
    }

    /// <summary>Stops the S3 front end (the proxy) as a crash would; the stored objects stay.</summary>
    public void StopProxy() => _servers[^1].Process.Stop();

    public void StartProxy() => _servers[^1].Process.Start(Port);

    public AmazonS3Client Client() => new(AccessKey, SecretKey, new AmazonS3Config
    {
        ServiceURL = $"http://127.0.0.1:{Port}", ForcePathStyle = true, AuthenticationRegion = "us-east-1",
        // Swift 2.30's s3api takes neither aws-chunked uploads nor the SDK's default CRC trailers
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
    });

    /// <summary>Creates <paramref name="bucket"/> and uploads every file of <paramref name="folder"/> under <paramref name="prefix"/>, through S3.</summary>
    public void Upload(string folder, string bucket, string prefix)
    {
        using var s3 = Client();
        Retrying(() => s3.PutBucketAsync(bucket));
        foreach (var file in Directory.GetFiles(folder))
            Retrying(() => s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = $"{prefix}/{Path.GetFileName(file)}", FilePath = file, UseChunkEncoding = false }));
    }

    /// <summary>A fresh Swift answers 503 SlowDown while its account and container databases are first created: bounded retries.</summary>
    static void Retrying<T>(Func<Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { call().GetAwaiter().GetResult(); return; }
            catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < 10) { Thread.Sleep(500 * attempt); }
        }
    }

    public void Dispose()
    {
        foreach (var (process, _) in Enumerable.Reverse(_servers)) process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
