using System.Net;
using System.Net.Sockets;
using Akka;
using Akka.Actor;
using Akka.Http.Dsl;
using Akka.Management.Dsl;
using Ceen.Httpd;

namespace ActorTraining.Host.Running;

/// <summary>
/// Serves Akka.Management's routes (<see cref="NodeManagementRoutes"/> and, with discovery, the bootstrap's) over HTTP
/// at one address, until the actor system shuts down. Akka.Http.Shim 1.5.73 binds through Ceen.Httpd 0.9.9's
/// <c>ListenAsync(IPEndPoint, …)</c>, but the registry serves only Ceen.Httpd 0.9.10, whose <c>ListenAsync</c> takes an
/// <c>EndPoint</c>: <c>AkkaManagement.Start</c> fails with a MissingMethodException. This binds the same routes through
/// the shim's own router; use <c>AkkaManagement.Start</c> again once the two packages agree.
/// </summary>
public static class ManagementEndpoint
{
    /// <summary>Listens at <paramref name="host"/>:<paramref name="port"/>; a port still taken after <paramref name="waitForPort"/>
    /// throws <see cref="SocketException"/>.</summary>
    public static async Task Start(ActorSystem system, IPAddress host, int port, TimeSpan waitForPort)
    {
        var deadline = DateTime.UtcNow + waitForPort;
        while (true) // a taken port as a SocketException, not a log line
        {
            try
            {
                using var probe = new TcpListener(host, port);
                probe.Start();
                probe.Stop();
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline) { await Task.Delay(TimeSpan.FromMilliseconds(500)); }
        }
        var routes = AkkaManagement.Get(system).Routes(); // also tells the bootstrap its own contact point (once)
        var stop = new CancellationTokenSource();
        var listening = HttpServer.ListenAsync(new IPEndPoint(host, port), false, new ServerConfig { Router = new AkkaRouter(system, routes) }, stop.Token);
        await Task.WhenAny(listening, Task.Delay(TimeSpan.FromMilliseconds(200)));
        if (listening.IsFaulted) await listening;
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "management-endpoint", async () =>
        {
            stop.Cancel();
            await Task.WhenAny(listening, Task.Delay(TimeSpan.FromSeconds(3)));
            return Done.Instance;
        });
    }
}
