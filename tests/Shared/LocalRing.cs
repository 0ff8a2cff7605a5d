using System.Net;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// Tests and benches: a ring of <paramref name="world"/> ranks inside one process — the ranks of a node's devices — on real loopback TCP
/// connections with ports the system picks, so one process and many run the same data-plane code.
/// </summary>
public static class LocalRing
{
    public static RingAllReduce[] Create(int world, TimeSpan timeout, long generation = 1, Action<IPEndPoint[]>? beforeJoin = null)
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32); // a ring of its own: a key no one else has
        var listeners = Enumerable.Range(0, world).Select(_ => RankEndpoint.Open(new IPEndPoint(IPAddress.Loopback, 0), key)).ToArray();
        var endpoints = listeners.Select(l => l.Address).ToArray();
        try
        {
            beforeJoin?.Invoke(endpoints);
            var joins = Enumerable.Range(0, world).Select(r => Task.Factory.StartNew(
                () => RingLinks.Join(r, world, generation, listeners[r], endpoints[(r + 1) % world], timeout),
                TaskCreationOptions.LongRunning)).ToArray();
            try { Task.WaitAll(joins); }
            catch (AggregateException)
            {
                foreach (var j in joins) if (j.IsCompletedSuccessfully) j.Result.Dispose();
                throw joins.Select(j => j.Exception?.InnerException).OfType<RingBrokenException>().FirstOrDefault()
                      ?? new RingBrokenException("the local ring did not form");
            }
            return joins.Select(j => new RingAllReduce(j.Result)).ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }
}
