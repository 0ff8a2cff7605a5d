using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a test server that cuts the connection (both ways, at once) after
/// <paramref name="cutAfterBytes"/> bytes of response in each of its first <paramref name="cuts"/> connections that
/// carry that many: a network failure in the middle of a shard, on real sockets.
/// </summary>
public sealed class CuttingProxy : IDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    int _cutsLeft;

    public int Port { get; }
    public int Cut => _cuts;
    int _cuts;

    public CuttingProxy(int targetPort, long cutAfterBytes, int cuts)
    {
        _cutsLeft = cuts;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = Relay(client, targetPort, cutAfterBytes);
            }
        });
    }

    async Task Relay(TcpClient client, int targetPort, long cutAfterBytes)
    {
        using var _ = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, targetPort, _stop.Token);
            var up = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var down = Down(server.GetStream(), client.GetStream(), cutAfterBytes);
            await Task.WhenAny(up, down);
        }
        catch (Exception) { } // a relay ends when either side does
    }

    async Task Down(Stream from, Stream to, long cutAfterBytes)
    {
        var buffer = new byte[16384];
        long sent = 0;
        int n;
        while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (sent + n > cutAfterBytes && Interlocked.Decrement(ref _cutsLeft) >= 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, (int)(cutAfterBytes - sent)), _stop.Token);
                Interlocked.Increment(ref _cuts);
                return; // the using blocks close both sockets: the client sees its response end early
            }
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            sent += n;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
