using System.Net;
using System.Net.Sockets;
using ActorTraining.Compute.Distributed;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>n ranks of a ring in this process, on 127.0.0.1 with ports the system picks: real TCP connections.</summary>
public static class LoopbackRing
{
    public static RingAllReduce[] Create(int world, TimeSpan? timeout = null, long generation = 1, Action<IPEndPoint[]>? beforeJoin = null)
    {
        var listeners = Enumerable.Range(0, world).Select(_ => RingLinks.Listen(new IPEndPoint(IPAddress.Loopback, 0))).ToArray();
        var endpoints = listeners.Select(l => (IPEndPoint)l.LocalEndPoint!).ToArray();
        beforeJoin?.Invoke(endpoints);
        try
        {
            var joins = Enumerable.Range(0, world).Select(r => Task.Factory.StartNew(() =>
                RingLinks.Join(r, world, generation, listeners[r], endpoints[(r + 1) % world], timeout ?? TimeSpan.FromSeconds(20)),
                TaskCreationOptions.LongRunning)).ToArray();
            Task.WaitAll(joins, TimeSpan.FromSeconds(60));
            return joins.Select(j => new RingAllReduce(j.Result)).ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    /// <summary>Every rank sums its buffer at once, each on its own thread; returns what each threw, or null.</summary>
    public static Exception?[] SumAll(RingAllReduce[] ring, float[][] buffers, TimeSpan limit)
    {
        var errors = new Exception?[ring.Length];
        var threads = ring.Select((r, i) => new Thread(() =>
        {
            try { r.Sum(buffers[i]); }
            catch (Exception e) { errors[i] = e; }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(limit), "an all-reduce did not end in time (a hang)");
        return errors;
    }
}
