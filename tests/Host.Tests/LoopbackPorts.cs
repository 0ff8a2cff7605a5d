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
}
