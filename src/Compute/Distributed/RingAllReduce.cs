using System.Numerics;
using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// Sum of one float buffer across the ranks of a ring, in place: reduce-scatter then all-gather (2·(n−1) steps; each
/// rank sends and receives 2·(n−1)/n of the buffer, the bandwidth bound). The buffer is cut into n chunks; in step k a
/// rank sends one chunk to its right neighbour and receives another from its left, adding it (reduce-scatter) or
/// copying it (all-gather). What a rank sends in step k+1 is what it received in step k, so the transfer is pipelined
/// in fixed-order buckets of at most <see cref="BucketBytes"/>: bucket j goes on as soon as bucket j of the previous
/// step arrived, and sending overlaps receiving and adding. Each element is summed exactly once, at one rank, in ring
/// order, and then copied: every replica ends with the same bytes.
/// </summary>
public sealed class RingAllReduce(RingLinks links) : IDisposable
{
    public const int BucketBytes = 1 << 20;
    const int BucketFloats = BucketBytes / sizeof(float);

    public int Rank => links.Rank;
    public int World => links.World;

    readonly byte[] _incoming = new byte[BucketBytes];

    /// <summary>Sums <paramref name="data"/> over every rank (each rank passes its own buffer of the same length).</summary>
    public unsafe void Sum(Span<float> data)
    {
        fixed (float* p = data) Sum(p, data.Length);
    }

    unsafe void Sum(float* data, long length)
    {
        int n = World, r = Rank;
        var chunks = Chunks(length, n);
        int steps = 2 * (n - 1);
        // step k: send chunk Send(k), receive chunk Receive(k) = Send(k + 1)
        int SendChunk(int k) => k < n - 1 ? Mod(r - k, n) : Mod(r + 1 - (k - (n - 1)), n);
        int ReceiveChunk(int k) => k < n - 1 ? Mod(r - k - 1, n) : Mod(r - (k - (n - 1)), n);

        var progress = new Progress();
        var address = (nint)data;
        var sender = Task.Factory.StartNew(() =>
        {
            try
            {
                for (int k = 0; k < steps; k++)
                {
                    var (offset, count) = chunks[SendChunk(k)];
                    for (long b = 0, j = 0; b < count; b += BucketFloats, j++)
                    {
                        // the receiver's socket timeout bounds this wait; twice that is only a backstop
                        if (k > 0 && !progress.WaitFor(k - 1, j, 2 * links.Timeout)) return; // the receiver failed: it reports
                        int floats = (int)Math.Min(BucketFloats, count - b);
                        links.Send(MemoryMarshal.AsBytes(new ReadOnlySpan<float>((float*)address + offset + b, floats)));
                    }
                }
            }
            catch (Exception e)
            {
                progress.Fail(e);
                links.Dispose(); // unblocks the receiver at once
            }
        }, TaskCreationOptions.LongRunning);

        try
        {
            for (int k = 0; k < steps; k++)
            {
                var (offset, count) = chunks[ReceiveChunk(k)];
                bool add = k < n - 1;
                for (long b = 0, j = 0; b < count; b += BucketFloats, j++)
                {
                    int floats = (int)Math.Min(BucketFloats, count - b);
                    var target = new Span<float>(data + offset + b, floats);
                    if (add)
                    {
                        var incoming = _incoming.AsSpan(0, floats * sizeof(float));
                        links.Receive(incoming);
                        Add(target, MemoryMarshal.Cast<byte, float>(incoming));
                    }
                    else links.Receive(MemoryMarshal.AsBytes(target)); // all-gather: the final values, straight into place
                    progress.Done(k, j);
                }
            }
        }
        catch (Exception e)
        {
            progress.Fail(e);
            links.Dispose();
            sender.Wait();
            throw e as RingBrokenException ?? progress.Failure as RingBrokenException ?? new RingBrokenException($"rank {r}: all-reduce failed: {e.Message}", e);
        }
        sender.Wait();
        if (progress.Failure is { } failure)
            throw failure as RingBrokenException ?? new RingBrokenException($"rank {r}: all-reduce failed: {failure.Message}", failure);
    }

    static int Mod(int a, int n) => ((a % n) + n) % n;

    /// <summary>Chunk c of n over <paramref name="length"/> elements: as even as possible, the first ones one longer.</summary>
    public static (long Offset, long Count)[] Chunks(long length, int n)
    {
        var result = new (long, long)[n];
        long start = 0;
        for (int c = 0; c < n; c++)
        {
            long count = length / n + (c < length % n ? 1 : 0);
            result[c] = (start, count);
            start += count;
        }
        return result;
    }

    static void Add(Span<float> target, ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var t = MemoryMarshal.Cast<float, Vector<float>>(target);
            var v = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int k = 0; k < t.Length; k++) t[k] += v[k];
            i = t.Length * Vector<float>.Count;
        }
        for (; i < target.Length; i++) target[i] += values[i];
    }

    /// <summary>Which buckets of which step the receiver has finished: the sender of step k waits for step k−1's.</summary>
    sealed class Progress
    {
        readonly object _gate = new();
        int _step = -1;
        long _bucket = -1;
        public Exception? Failure { get; private set; }

        public void Done(int step, long bucket)
        {
            lock (_gate) { (_step, _bucket) = (step, bucket); Monitor.PulseAll(_gate); }
        }

        public void Fail(Exception e)
        {
            lock (_gate) { Failure ??= e; Monitor.PulseAll(_gate); }
        }

        /// <summary>False when the ring failed (or nothing came within <paramref name="timeout"/>).</summary>
        public bool WaitFor(int step, long bucket, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            lock (_gate)
            {
                while (Failure is null && (_step < step || _step == step && _bucket < bucket))
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left)) { Failure ??= new RingBrokenException($"no data arrived for {timeout.TotalSeconds:F0} s"); return false; }
                }
                return Failure is null;
            }
        }
    }

    public void Dispose() => links.Dispose();
}
