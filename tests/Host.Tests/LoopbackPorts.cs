using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Host.Tests;

/// <summary>Ports for the test servers and nodes: free on 127.0.0.1 when asked (the system picks them).</summary>
public static class LoopbackPorts
{
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A base for <paramref name="count"/> consecutive ports, each free with its management port (+ 4505) free too,
    /// as `train --port-base` under srun uses them.</summary>
    public static int FreeBase(int count)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int port = Free();
            if (port + ActorTraining.Compute.Distributed.NodeOptions.ManagementPortOffset + count > 65535) continue;
            if (Enumerable.Range(port, count).SelectMany(p => new[] { p, p + ActorTraining.Compute.Distributed.NodeOptions.ManagementPortOffset }).All(IsFree)) return port;
        }
        throw new InvalidOperationException($"no {count} consecutive free ports (with their management ports) found in 100 tries");
    }

    static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException) { return false; }
    }
}
