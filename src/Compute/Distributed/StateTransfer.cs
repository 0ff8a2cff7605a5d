using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// A rank's training state — weights, optimiser state, schedule, RNG, data position: a checkpoint's bytes — carried
/// from a live rank to a joining one over the data plane, never through Akka and never through the checkpoint
/// directory. The joiner opens an authenticated connection to the source's <see cref="RankEndpoint"/> with a state
/// hello for the new generation; the source answers with one status byte and then the checkpoint stream in chunks (a 4-byte length, at
/// most <see cref="ChunkBytes"/>, then the bytes; a zero length ends it). The joiner checks every length before it
/// reads and writes the stream to a file, which it then loads like any checkpoint (the SHA-256 inside covers the
/// transfer too).
/// </summary>
public static class StateTransfer
{
    public const int ChunkBytes = 1 << 20;
    const byte Refused = 0, Accepted = 1;

    /// <summary>Most bytes a state may have: far above any model this trains, far below a disk-filling stream.</summary>
    public const long MaxBytes = 256L << 30;

    /// <summary>
    /// Fetches the state of the rank listening at <paramref name="source"/> for <paramref name="generation"/> into
    /// <paramref name="file"/>; returns its size. A refused request, a dropped connection, an over-long chunk or
    /// silence for <paramref name="timeout"/> is a <see cref="RingBrokenException"/>.
    /// </summary>
    public static long Fetch(IPEndPoint source, long generation, int rank, int world, byte[] key, string file, TimeSpan timeout, CancellationToken cancel = default)
    {
        using var socket = RankEndpoint.Connect(source, new RankEndpoint.Hello(RankEndpoint.Purpose.State, world, rank, generation), key,
            DateTime.UtcNow + timeout, "the rank to take the training state from", cancel);
        using var stop = cancel.Register(socket.Dispose); // called off: the blocked read ends at once
        socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
        socket.ReceiveBufferSize = 4 << 20;
        try
        {
            var status = new byte[1];
            RingLinks.ReadExactly(socket, status);
            if (status[0] != Accepted) throw new RingBrokenException($"the rank at {source} refused its training state for generation {generation}");
            var header = new byte[4];
            var buffer = new byte[ChunkBytes];
            long total = 0;
            using var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, ChunkBytes);
            while (true)
            {
                RingLinks.ReadExactly(socket, header);
                int length = BinaryPrimitives.ReadInt32LittleEndian(header);
                if (length == 0) break;
                if (length is < 0 or > ChunkBytes || total + length > MaxBytes)
                    throw new RingBrokenException($"the rank at {source} sent a chunk of {length} bytes (at most {ChunkBytes}); connection closed");
                RingLinks.ReadExactly(socket, buffer.AsSpan(0, length));
                output.Write(buffer, 0, length);
                total += length;
            }
            return total;
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException)
        {
            throw new RingBrokenException($"fetching the training state from {source}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Answers a state request on <paramref name="socket"/> (its hello already read): <paramref name="write"/> writes
    /// the checkpoint stream, or null refuses (this rank has no state for that generation). Closes the socket.
    /// </summary>
    public static void Serve(Socket socket, Action<Stream>? write, TimeSpan timeout)
    {
        using (socket)
        {
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            socket.SendBufferSize = 4 << 20;
            RingLinks.SendAll(socket, [write is null ? Refused : Accepted]);
            if (write is null) return;
            var chunks = new ChunkedStream(socket);
            write(chunks);
            chunks.Complete(); // only after the whole state: a failure mid-way leaves the joiner a broken connection, not a short state
            socket.Shutdown(SocketShutdown.Send);
        }
    }

    /// <summary>Writes what it is given as length-prefixed chunks; <see cref="Complete"/> flushes and writes the zero terminator.</summary>
    sealed class ChunkedStream(Socket socket) : Runtime.WriteOnlyStream
    {
        readonly byte[] _buffer = new byte[4 + ChunkBytes];
        int _used;

        public override void Write(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                int n = Math.Min(data.Length, ChunkBytes - _used);
                data[..n].CopyTo(_buffer.AsSpan(4 + _used));
                _used += n;
                data = data[n..];
                if (_used == ChunkBytes) Flush();
            }
        }

        public override void Flush()
        {
            if (_used == 0) return;
            BinaryPrimitives.WriteInt32LittleEndian(_buffer, _used);
            RingLinks.SendAll(socket, _buffer.AsSpan(0, 4 + _used));
            _used = 0;
        }

        public void Complete()
        {
            Flush();
            RingLinks.SendAll(socket, new byte[4]);
        }
    }
}
