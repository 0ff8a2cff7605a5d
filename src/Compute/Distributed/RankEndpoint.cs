using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// A rank's door on the data plane: one TCP listener for the rank's whole life, bound where the node was told to bind.
/// Every connection opens with a <see cref="Hello"/> saying what it is for — the left neighbour's ring link of a
/// generation, or a request for the rank's training state (a rank joining the group) — and is handed on accordingly;
/// anything else (garbage, a truncated or unknown hello, a port scanner) is closed. Ring links wait here until the
/// rank joins that generation's ring (<see cref="TakeLeft"/>); older generations' links are dropped.
/// </summary>
public sealed class RankEndpoint : IDisposable
{
    /// <summary>What a connection to a rank is for.</summary>
    public enum Purpose { Ring = 1, State = 2 }

    /// <summary>The first bytes on every data-plane connection: who is calling, for what, in which generation.</summary>
    public readonly record struct Hello(Purpose Purpose, int World, int Rank, long Generation)
    {
        public const int Bytes = 28;
        const uint Magic = 0x47525441; // "ATRG"
        const int Version = 2;

        public void Write(Span<byte> b)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(b[4..], Version);
            BinaryPrimitives.WriteInt32LittleEndian(b[8..], (int)Purpose);
            BinaryPrimitives.WriteInt32LittleEndian(b[12..], World);
            BinaryPrimitives.WriteInt32LittleEndian(b[16..], Rank);
            BinaryPrimitives.WriteInt64LittleEndian(b[20..], Generation);
        }

        /// <summary>The hello in <paramref name="b"/>, or null when it is not one of ours.</summary>
        public static Hello? Read(ReadOnlySpan<byte> b)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(b) != Magic || BinaryPrimitives.ReadInt32LittleEndian(b[4..]) != Version) return null;
            var purpose = (Purpose)BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
            int world = BinaryPrimitives.ReadInt32LittleEndian(b[12..]), rank = BinaryPrimitives.ReadInt32LittleEndian(b[16..]);
            long generation = BinaryPrimitives.ReadInt64LittleEndian(b[20..]);
            if (purpose is not (Purpose.Ring or Purpose.State) || world is < 1 or > 65536 || rank < 0 || rank >= world || generation < 0) return null;
            return new Hello(purpose, world, rank, generation);
        }

        /// <summary>Sends this hello on a new connection.</summary>
        public void SendOn(Socket socket)
        {
            var bytes = new byte[Bytes];
            Write(bytes);
            RingLinks.SendAll(socket, bytes);
        }
    }

    /// <summary>Most ring links kept waiting at once; a flood of connections cannot grow this.</summary>
    const int MaxWaiting = 16;

    /// <summary>How long a new connection may take to say hello.</summary>
    static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(5);

    readonly Socket _listener;
    readonly Thread _acceptor;
    readonly Action<Hello, Socket>? _stateRequests;
    readonly object _gate = new();
    readonly List<(Hello Hello, Socket Socket, string From)> _waiting = [];
    long _joined = -1; // the newest generation a ring link was taken for
    volatile bool _disposed;

    /// <summary>Where peers reach this rank.</summary>
    public IPEndPoint Address { get; }

    /// <summary>Connections turned away so far (not a hello of ours, or a stale generation).</summary>
    public int Refused { get; private set; }

    RankEndpoint(Socket listener, Action<Hello, Socket>? stateRequests)
    {
        _listener = listener;
        _stateRequests = stateRequests;
        Address = (IPEndPoint)listener.LocalEndPoint!;
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = $"rank-endpoint-{Address.Port}" };
        _acceptor.Start();
    }

    /// <summary>
    /// Listens at <paramref name="bind"/> (port 0: any free one). <paramref name="stateRequests"/> answers a joining
    /// rank's request for this rank's training state (it owns the socket and must close it); without it such requests
    /// are refused.
    /// </summary>
    public static RankEndpoint Open(IPEndPoint bind, Action<Hello, Socket>? stateRequests = null)
    {
        var listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(bind);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new RankEndpoint(listener, stateRequests);
    }

    void AcceptLoop()
    {
        while (!_disposed)
        {
            Socket socket;
            try { socket = _listener.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { if (_disposed) return; continue; }
            // each hello is read on its own so a silent connection cannot hold up the next one
            Task.Factory.StartNew(() => Admit(socket), TaskCreationOptions.LongRunning);
        }
    }

    void Admit(Socket socket)
    {
        var from = socket.RemoteEndPoint?.ToString() ?? "?";
        Hello? hello = null;
        try
        {
            socket.ReceiveTimeout = (int)HelloTimeout.TotalMilliseconds;
            var bytes = new byte[Hello.Bytes];
            RingLinks.ReadExactly(socket, bytes);
            hello = Hello.Read(bytes);
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException) { }
        if (hello is not { } h || _disposed) { Refuse(socket); return; }
        if (h.Purpose == Purpose.State)
        {
            if (_stateRequests is null) { Refuse(socket); return; }
            try { _stateRequests(h, socket); }
            catch (Exception) { socket.Dispose(); }
            return;
        }
        lock (_gate)
        {
            if (h.Generation < _joined) { RefuseLocked(socket); return; } // a link of a generation this rank has left
            _waiting.Add((h, socket, from));
            while (_waiting.Count > MaxWaiting)
            {
                RefuseLocked(_waiting[0].Socket);
                _waiting.RemoveAt(0);
            }
            Monitor.PulseAll(_gate);
        }
    }

    void Refuse(Socket socket)
    {
        lock (_gate) RefuseLocked(socket);
    }

    void RefuseLocked(Socket socket)
    {
        Refused++;
        socket.Dispose();
    }

    /// <summary>
    /// The ring link from rank <paramref name="left"/> of a <paramref name="world"/>-rank ring of
    /// <paramref name="generation"/>, once it has connected (waiting until <paramref name="deadline"/>). Links of older
    /// generations are closed.
    /// </summary>
    public (Socket Socket, string From) TakeLeft(long generation, int left, int world, DateTime deadline, int rank, CancellationToken cancel = default)
    {
        using var wake = cancel.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
        lock (_gate)
        {
            _joined = Math.Max(_joined, generation);
            while (true)
            {
                for (int i = _waiting.Count - 1; i >= 0; i--)
                {
                    var (h, socket, from) = _waiting[i];
                    if (h.Generation < generation) { RefuseLocked(socket); _waiting.RemoveAt(i); continue; }
                    if (h.Generation == generation && h.Rank == left && h.World == world)
                    {
                        _waiting.RemoveAt(i);
                        return (socket, from);
                    }
                }
                var remaining = deadline - DateTime.UtcNow;
                if (_disposed) throw new RingBrokenException($"rank {rank}: its endpoint was closed while waiting for rank {left}");
                if (cancel.IsCancellationRequested) throw new RingBrokenException($"rank {rank}: the ring of generation {generation} was called off while waiting for rank {left}");
                if (remaining <= TimeSpan.Zero || !Monitor.Wait(_gate, remaining) && DateTime.UtcNow >= deadline)
                    throw new RingBrokenException($"rank {rank}: rank {left} did not connect within the ring's timeout (generation {generation})");
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
        lock (_gate)
        {
            foreach (var (_, socket, _) in _waiting) socket.Dispose();
            _waiting.Clear();
            Monitor.PulseAll(_gate);
        }
    }
}
