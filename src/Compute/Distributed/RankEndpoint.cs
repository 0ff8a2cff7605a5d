using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// A rank's door on the data plane: one TCP listener for the rank's whole life, bound where the node was told to bind.
/// Every connection opens with a <see cref="Hello"/> saying what it is for — the left neighbour's ring link of a
/// generation, or a request for the rank's training state (a rank joining the group) — and a mutual challenge–response
/// with the run's key (<see cref="RunSecret.RingKey"/>): the caller sends a fresh nonce with its hello, this side answers
/// with its own nonce and an HMAC over both and the hello, the caller proves the same. Only then is the connection handed
/// on; before that not one byte beyond the fixed-size handshake is read. Anything else — garbage, a truncated or unknown
/// hello, another run's key, a replayed handshake (the nonces differ), a port scanner — is closed and reported
/// (<c>refused</c>). Ring links wait here until the rank joins that generation's ring (<see cref="TakeLeft"/>); older
/// generations' links are dropped.
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

    }

    const int NonceBytes = 16, MacBytes = 32;

    /// <summary>Most ring links kept waiting at once; a flood of connections cannot grow this.</summary>
    const int MaxWaiting = 16;

    /// <summary>How long a new connection may take to say hello.</summary>
    static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(5);

    readonly Socket _listener;
    readonly Thread _acceptor;
    readonly byte[] _key;
    readonly Action<Hello, Socket>? _stateRequests;
    readonly Action<string>? _refused;
    readonly object _gate = new();
    readonly List<(Hello Hello, Socket Socket, string From)> _waiting = [];
    long _joined = -1; // the newest generation a ring link was taken for
    volatile bool _disposed;

    /// <summary>The run's data-plane key this endpoint admits callers with (and connects to its peers with).</summary>
    public byte[] Key => _key;

    /// <summary>Where peers reach this rank.</summary>
    public IPEndPoint Address { get; }

    /// <summary>Connections turned away so far (not a hello of ours, or a stale generation).</summary>
    public int Refused { get; private set; }

    RankEndpoint(Socket listener, byte[] key, Action<Hello, Socket>? stateRequests, Action<string>? refused)
    {
        _listener = listener;
        _key = key;
        _stateRequests = stateRequests;
        _refused = refused;
        Address = (IPEndPoint)listener.LocalEndPoint!;
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = $"rank-endpoint-{Address.Port}" };
        _acceptor.Start();
    }

    /// <summary>
    /// Listens at <paramref name="bind"/> (port 0: any free one), admitting only callers that hold
    /// <paramref name="key"/>. <paramref name="stateRequests"/> answers a joining rank's request for this rank's
    /// training state (it owns the socket and must close it); without it such requests are refused.
    /// <paramref name="refused"/> hears, in a sentence naming the caller's address, every connection turned away.
    /// </summary>
    public static RankEndpoint Open(IPEndPoint bind, byte[] key, Action<Hello, Socket>? stateRequests = null, Action<string>? refused = null)
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
        return new RankEndpoint(listener, key, stateRequests, refused);
    }

    /// <summary>
    /// A connection to the rank at <paramref name="to"/> for <paramref name="hello"/>'s purpose, once both sides proved
    /// they hold <paramref name="key"/> (see the class). A rank that does not answer in time, closes, or fails the proof is a
    /// <see cref="RingBrokenException"/> naming it.
    /// </summary>
    public static Socket Connect(IPEndPoint to, Hello hello, byte[] key, DateTime deadline, string what, CancellationToken cancel = default)
    {
        var socket = RingLinks.Connect(to, deadline, what, cancel);
        try
        {
            socket.ReceiveTimeout = socket.SendTimeout = (int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 1000, HelloTimeout.TotalMilliseconds);
            var opening = new byte[Hello.Bytes + NonceBytes];
            hello.Write(opening);
            RandomNumberGenerator.Fill(opening.AsSpan(Hello.Bytes));
            RingLinks.SendAll(socket, opening);
            var answer = new byte[NonceBytes + MacBytes];
            RingLinks.ReadExactly(socket, answer);
            var serverNonce = answer.AsSpan(0, NonceBytes);
            if (!CryptographicOperations.FixedTimeEquals(answer.AsSpan(NonceBytes), Mac(key, 'S', opening, serverNonce)))
                throw new RingBrokenException($"{what} at {to} failed the run's authentication (a process of another run, or not a rank)");
            RingLinks.SendAll(socket, Mac(key, 'C', opening, serverNonce));
            return socket;
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException)
        {
            socket.Dispose();
            throw new RingBrokenException($"{what} at {to} closed the connection during its handshake: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>HMAC-SHA256 over a side's label, the caller's opening (hello and nonce) and the answering nonce.</summary>
    static byte[] Mac(byte[] key, char side, ReadOnlySpan<byte> opening, ReadOnlySpan<byte> serverNonce) =>
        HMACSHA256.HashData(key, (byte[])[(byte)side, .. opening, .. serverNonce]);

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
        string why = "it closed before its hello";
        try
        {
            socket.ReceiveTimeout = socket.SendTimeout = (int)HelloTimeout.TotalMilliseconds;
            var opening = new byte[Hello.Bytes + NonceBytes];
            RingLinks.ReadExactly(socket, opening);
            hello = Hello.Read(opening);
            if (hello is null) why = "not a data-plane hello";
            else
            {
                var serverNonce = RandomNumberGenerator.GetBytes(NonceBytes);
                RingLinks.SendAll(socket, [.. serverNonce, .. Mac(_key, 'S', opening, serverNonce)]);
                var proof = new byte[MacBytes];
                RingLinks.ReadExactly(socket, proof);
                if (!CryptographicOperations.FixedTimeEquals(proof, Mac(_key, 'C', opening, serverNonce)))
                {
                    why = "it failed the run's authentication (another run's key, or a replayed handshake)";
                    hello = null;
                }
            }
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException)
        {
            var stalled = e is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock };
            why = hello is null
                ? stalled ? $"no complete hello in {HelloTimeout.TotalSeconds:F0} s" : "it closed before a complete hello"
                : "it did not finish the authentication (it does not hold the run's key)";
            hello = null;
        }
        if (hello is not { } h || _disposed) { Refuse(socket, from, why); return; }
        socket.ReceiveTimeout = socket.SendTimeout = 0;
        if (h.Purpose == Purpose.State)
        {
            if (_stateRequests is null) { Refuse(socket, from, "this rank serves no state"); return; }
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

    void Refuse(Socket socket, string from, string why)
    {
        Refuse(socket);
        _refused?.Invoke($"refused a data-plane connection from {from}: {why}");
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
