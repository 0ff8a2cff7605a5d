using System.Net;
using System.Net.Sockets;
using ActorTraining.Compute.Distributed;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>n ranks of a ring in this process (<see cref="LocalRing"/>), and all of them summing at once.</summary>
public static class LoopbackRing
{
    public static RingAllReduce[] Create(int world, TimeSpan? timeout = null, long generation = 1, Action<IPEndPoint[]>? beforeJoin = null) =>
        LocalRing.Create(world, timeout ?? TimeSpan.FromSeconds(20), generation, beforeJoin);

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
