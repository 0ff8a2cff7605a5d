using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// The two TCP connections of one rank in the ring — this is the data plane, apart from Akka: it sends to the next
/// rank (right) and receives from the previous one (left), over loopback inside a node or the network between nodes,
/// the same code either way. Connections open with a hello naming run generation, world size and rank, so a rank of
/// an older generation or another ring is turned away; every frame after it carries a sequence number and a length
/// that must be exactly the expected ones, checked before anything is read into memory. Blocking calls are bounded
/// by <see cref="Timeout"/>; any failure closes both connections, so the other direction fails at once, not later.
/// </summary>
public sealed class RingLinks : IDisposable
{
    const uint Magic = 0x47525441; // "ATRG"
    const int Version = 1;
    const int HelloBytes = 24;
    public const int FrameHeaderBytes = 8;

    readonly Socket _right, _left;
    uint _sentFrames, _receivedFrames;

    public int Rank { get; }
    public int World { get; }
    public TimeSpan Timeout { get; }
    public string RightName { get; }
    public string LeftName { get; }

    RingLinks(int rank, int world, Socket right, Socket left, TimeSpan timeout, string rightName, string leftName)
    {
        (Rank, World, _right, _left, Timeout, RightName, LeftName) = (rank, world, right, left, timeout, rightName, leftName);
        foreach (var s in new[] { right, left })
        {
            s.NoDelay = true;
            s.SendBufferSize = s.ReceiveBufferSize = 4 << 20;
            s.SendTimeout = s.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        }
    }

    /// <summary>A listening socket for this rank's left neighbour, bound where asked (port 0: any free port).</summary>
    public static Socket Listen(IPEndPoint bind)
    {
        var listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(bind);
        listener.Listen(16);
        return listener;
    }

    /// <summary>
    /// Connects to the right neighbour at <paramref name="right"/> and accepts the left one on <paramref name="listener"/>,
    /// each proving with its hello that it is rank ±1 of the same <paramref name="generation"/> and world. Other
    /// connections (a stale rank, a port scanner) are closed and waited past until <paramref name="timeout"/>.
    /// </summary>
    public static RingLinks Join(int rank, int world, long generation, Socket listener, IPEndPoint right, TimeSpan timeout)
    {
        if (world < 2) throw new ArgumentOutOfRangeException(nameof(world), "a ring needs at least two ranks");
        var deadline = DateTime.UtcNow + timeout;
        // its own thread: Join is itself called from blocking code, and waiting on the pool would starve it
        var accept = Task.Factory.StartNew(() => AcceptLeft(listener, rank, world, generation, deadline), TaskCreationOptions.LongRunning);
        Socket? toRight = null;
        try
        {
            toRight = ConnectRight(right, deadline);
            var hello = new byte[HelloBytes];
            WriteHello(hello, rank, world, generation);
            toRight.Send(hello);
            if (!accept.Wait(Remaining(deadline)))
                throw new RingBrokenException($"rank {rank}: rank {(rank + world - 1) % world} did not connect within {timeout.TotalSeconds:F0} s");
            var (left, leftName) = accept.Result;
            return new RingLinks(rank, world, toRight, left, timeout, right.ToString(), leftName);
        }
        catch (AggregateException e) when (e.InnerException is RingBrokenException broken)
        {
            toRight?.Dispose();
            throw broken;
        }
        catch
        {
            toRight?.Dispose();
            throw;
        }
    }

    static TimeSpan Remaining(DateTime deadline) => deadline > DateTime.UtcNow ? deadline - DateTime.UtcNow : TimeSpan.Zero;

    static Socket ConnectRight(IPEndPoint right, DateTime deadline)
    {
        while (true)
        {
            var socket = new Socket(right.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                var connect = socket.ConnectAsync(right);
                if (connect.Wait(Remaining(deadline))) return socket;
                throw new RingBrokenException($"could not connect to the next rank at {right} in time");
            }
            catch (AggregateException e) when (e.InnerException is SocketException && DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(50); // its listener may not be up yet
            }
            catch (AggregateException e) when (e.InnerException is SocketException s)
            {
                socket.Dispose();
                throw new RingBrokenException($"could not connect to the next rank at {right}: {s.SocketErrorCode}", s);
            }
        }
    }

    static (Socket, string) AcceptLeft(Socket listener, int rank, int world, long generation, DateTime deadline)
    {
        int expected = (rank + world - 1) % world;
        while (true)
        {
            var accepting = listener.AcceptAsync();
            if (!accepting.Wait(Remaining(deadline)))
                throw new RingBrokenException($"rank {rank}: rank {expected} did not connect in time");
            var socket = accepting.Result;
            var from = socket.RemoteEndPoint?.ToString() ?? "?";
            try
            {
                socket.ReceiveTimeout = (int)Math.Max(1, Math.Min(5000, Remaining(deadline).TotalMilliseconds));
                var hello = new byte[HelloBytes];
                ReadExactly(socket, hello);
                var (magic, version, peerWorld, peerRank, peerGeneration) = ReadHello(hello);
                if (magic == Magic && version == Version && peerWorld == world && peerRank == expected && peerGeneration == generation)
                    return (socket, from);
            }
            catch (Exception e) when (e is SocketException or EndOfStreamException) { }
            socket.Dispose(); // not our left neighbour (another ring, an older generation, garbage): turn it away, keep waiting
        }
    }

    static void WriteHello(Span<byte> b, int rank, int world, long generation)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], world);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], rank);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], generation);
    }

    static (uint, int, int, int, long) ReadHello(ReadOnlySpan<byte> b) => (BinaryPrimitives.ReadUInt32LittleEndian(b),
        BinaryPrimitives.ReadInt32LittleEndian(b[4..]), BinaryPrimitives.ReadInt32LittleEndian(b[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[12..]), BinaryPrimitives.ReadInt64LittleEndian(b[16..]));

    /// <summary>Sends one frame to the right: header (sequence, length) and <paramref name="payload"/>.</summary>
    public void Send(ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(header, _sentFrames++);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], payload.Length);
        try
        {
            SendAll(_right, header);
            SendAll(_right, payload);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Broken($"sending to rank {(Rank + 1) % World} ({RightName})", e);
        }
    }

    /// <summary>Receives the next frame from the left into <paramref name="payload"/>, which must be its exact size.</summary>
    public void Receive(Span<byte> payload)
    {
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        int left = (Rank + World - 1) % World;
        try
        {
            ReadExactly(_left, header);
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(header);
            int length = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            if (sequence != _receivedFrames || length != payload.Length)
            {
                Dispose();
                throw new RingBrokenException($"rank {Rank}: rank {left} ({LeftName}) sent frame {sequence} of {length} bytes where frame {_receivedFrames} of {payload.Length} bytes was due; connection closed");
            }
            _receivedFrames++;
            ReadExactly(_left, payload);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or EndOfStreamException)
        {
            throw Broken($"receiving from rank {left} ({LeftName})", e);
        }
    }

    RingBrokenException Broken(string doing, Exception e)
    {
        Dispose();
        var why = e is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock }
            ? $"nothing for {Timeout.TotalSeconds:F0} s"
            : e switch
            {
                ObjectDisposedException => "the ring was closed",
                EndOfStreamException => "the peer closed its connection",
                SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted } => "the connection was reset (the peer is gone)",
                SocketException s => s.SocketErrorCode.ToString(),
                _ => e.Message,
            };
        return new RingBrokenException($"rank {Rank}: all-reduce failed {doing}: {why}", e);
    }

    static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0) data = data[socket.Send(data)..];
    }

    static void ReadExactly(Socket socket, Span<byte> data)
    {
        while (data.Length > 0)
        {
            int n = socket.Receive(data);
            if (n == 0) throw new EndOfStreamException("the peer closed its connection");
            data = data[n..];
        }
    }

    public void Dispose()
    {
        _right.Dispose();
        _left.Dispose();
    }
}
