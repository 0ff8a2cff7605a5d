namespace ActorTraining.Host.Tests;

/// <summary>
/// A private nginx (Debian's, scripts/ensure-machine installs it) serving <paramref name="root"/> on 127.0.0.1 on a free
/// port, with Range requests as nginx always serves them. <paramref name="rateLimit"/> (e.g. "2m") slows each response,
/// so a test can stop the server while shards are in flight. Its access log counts requests. As root its worker runs as
/// root too: the temp folders tests serve are private to their user.
/// </summary>
public sealed class NginxServer : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("nginx-").FullName;
    readonly ServerProcess _process;

    public int Port { get; } = LoopbackPorts.Free();
    public string Url => $"http://127.0.0.1:{Port}";
    public string AccessLog => Path.Combine(_dir, "access.log");

    public NginxServer(string root, string? rateLimit = null)
    {
        File.WriteAllText(Path.Combine(_dir, "nginx.conf"), $$"""
            daemon off;
            {{(Environment.UserName == "root" ? "user root;" : "")}}
            worker_processes 1;
            pid {{_dir}}/nginx.pid;
            error_log {{_dir}}/error.log;
            events { worker_connections 256; }
            http {
              access_log {{AccessLog}};
              client_body_temp_path {{_dir}}/body; proxy_temp_path {{_dir}}/proxy; fastcgi_temp_path {{_dir}}/fastcgi;
              uwsgi_temp_path {{_dir}}/uwsgi; scgi_temp_path {{_dir}}/scgi;
              server {
                listen 127.0.0.1:{{Port}};
                root {{root}};
                {{(rateLimit is null ? "" : $"limit_rate {rateLimit};")}}
              }
            }
            """);
        _process = new ServerProcess("nginx", _dir, "/usr/sbin/nginx", "-c", Path.Combine(_dir, "nginx.conf"), "-p", _dir);
        Start();
    }

    public void Start() => _process.Start(Port);

    public void Stop() => _process.Stop();

    /// <summary>Requests served so far (lines of the access log).</summary>
    public int Requests => File.Exists(AccessLog) ? File.ReadAllLines(AccessLog).Length : 0;

    public void Dispose()
    {
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
