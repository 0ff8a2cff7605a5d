using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// The two TCP connections of one rank in the ring — this is the data plane, apart from Akka: it sends to the next
/// rank (right) and receives from the previous one (left), over loopback inside a node or the network between nodes,
/// the same code either way. Connections open with a <see cref="RankEndpoint.Hello"/> naming generation, world size
/// and rank, so a rank of an older generation or another ring is turned away (by the receiving rank's
/// <see cref="RankEndpoint"/>); every frame after it carries a sequence number and a length that must be exactly the
/// expected ones, checked before anything is read into memory. Blocking calls are bounded by <see cref="Timeout"/>;
/// any failure closes both connections, so the other direction fails at once, not later.
/// </summary>
public sealed class RingLinks : IDisposable
{
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

    /// <summary>
    /// Connects to the right neighbour at <paramref name="right"/> and takes the left one's link from this rank's
    /// <paramref name="endpoint"/>, each proving with its hello that it is rank ±1 of the same
    /// <paramref name="generation"/> and world. Gives up with a <see cref="RingBrokenException"/> after
    /// <paramref name="joinTimeout"/> (or at once when <paramref name="cancel"/> fires); frames then wait at most <paramref name="timeout"/>.
    /// </summary>
    public static RingLinks Join(int rank, int world, long generation, RankEndpoint endpoint, IPEndPoint right, TimeSpan timeout,
        TimeSpan? joinTimeout = null, CancellationToken cancel = default)
    {
        if (world < 2) throw new ArgumentOutOfRangeException(nameof(world), "a ring needs at least two ranks");
        var deadline = DateTime.UtcNow + (joinTimeout ?? timeout);
        Socket? toRight = null;
        try
        {
            toRight = RankEndpoint.Connect(right, new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, world, rank, generation), endpoint.Key, deadline,
                "the next rank", cancel);
            var (left, leftName) = endpoint.TakeLeft(generation, (rank + world - 1) % world, world, deadline, rank, cancel);
            return new RingLinks(rank, world, toRight, left, timeout, right.ToString(), leftName);
        }
        catch
        {
            toRight?.Dispose();
            throw;
        }
    }

    static TimeSpan Remaining(DateTime deadline) => deadline > DateTime.UtcNow ? deadline - DateTime.UtcNow : TimeSpan.Zero;

    /// <summary>A connection to <paramref name="to"/>, retried while its listener may not be up yet, until <paramref name="deadline"/>.</summary>
    public static Socket Connect(IPEndPoint to, DateTime deadline, string what, CancellationToken cancel = default)
    {
        while (true)
        {
            if (cancel.IsCancellationRequested) throw new RingBrokenException($"connecting to {what} at {to}: cancelled");
            var socket = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                var connect = socket.ConnectAsync(to, cancel).AsTask();
                if (connect.Wait(Remaining(deadline))) return socket;
                throw new RingBrokenException($"could not connect to {what} at {to} in time");
            }
            catch (AggregateException e) when (e.InnerException is OperationCanceledException)
            {
                socket.Dispose();
                throw new RingBrokenException($"connecting to {what} at {to}: cancelled");
            }
            catch (AggregateException e) when (e.InnerException is SocketException && DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(50); // its listener may not be up yet
            }
            catch (AggregateException e) when (e.InnerException is SocketException s)
            {
                socket.Dispose();
                throw new RingBrokenException($"could not connect to {what} at {to}: {s.SocketErrorCode}", s);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

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

    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0) data = data[socket.Send(data)..];
    }

    public static void ReadExactly(Socket socket, Span<byte> data)
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
