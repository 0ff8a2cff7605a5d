using System.Diagnostics;
using System.Net.Sockets;
using ActorTraining.Compute.Distributed;

namespace ActorTraining.Compute.Tests.Distributed;

public sealed class RingAllReduceTests
{
    static float[][] Buffers(int world, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, world).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 1_000_003)]
    [InlineData(3, 2)]
    [InlineData(3, 777_777)]
    [InlineData(4, 5)]
    [InlineData(4, 300_001)]
    public void EveryRankEndsWithTheSumAndTheSameBytes(int world, int length)
    {
        var buffers = Buffers(world, length, seed: world * 31 + length);
        var expected = Enumerable.Range(0, length).Select(i => buffers.Sum(b => (double)b[i])).ToArray();
        var ring = LoopbackRing.Create(world);
        try
        {
            var errors = LoopbackRing.SumAll(ring, buffers, TimeSpan.FromSeconds(60));
            Assert.All(errors, e => Assert.Null(e));
            for (int i = 0; i < length; i++)
                Assert.True(Math.Abs(buffers[0][i] - expected[i]) <= 1e-6 * world, $"element {i}: {buffers[0][i]} vs {expected[i]}");
            for (int r = 1; r < world; r++) Assert.Equal(buffers[0], buffers[r]); // bit for bit
        }
        finally { foreach (var r in ring) r.Dispose(); }
    }

    [Fact]
    public void RepeatedSumsOnOneRingStayInStep()
    {
        var ring = LoopbackRing.Create(3);
        try
        {
            for (int round = 0; round < 20; round++)
            {
                var buffers = Buffers(3, 10_000 + round * 3_001, seed: round);
                var expected = buffers[0].Select((_, i) => buffers[0][i] + buffers[1][i] + buffers[2][i]).ToArray();
                Assert.All(LoopbackRing.SumAll(ring, buffers, TimeSpan.FromSeconds(30)), e => Assert.Null(e));
                for (int i = 0; i < expected.Length; i += 97) Assert.True(Math.Abs(expected[i] - buffers[1][i]) <= 1e-6f, $"round {round}, element {i}");
                Assert.Equal(buffers[0], buffers[2]);
            }
        }
        finally { foreach (var r in ring) r.Dispose(); }
    }

    [Fact]
    public void ConnectionsThatAreNotTheLeftNeighbourAreTurnedAway()
    {
        var strangers = new List<Socket>();
        var ring = LoopbackRing.Create(2, beforeJoin: endpoints =>
        {
            foreach (var e in endpoints)
            {
                var garbage = new Socket(e.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                garbage.Connect(e);
                garbage.Send(Enumerable.Range(0, 64).Select(i => (byte)(i * 37)).ToArray()); // not a hello
                strangers.Add(garbage);
            }
        });
        try
        {
            var buffers = Buffers(2, 1000, seed: 3);
            var expected = buffers[0].Select((x, i) => x + buffers[1][i]).ToArray();
            Assert.All(LoopbackRing.SumAll(ring, buffers, TimeSpan.FromSeconds(30)), e => Assert.Null(e));
            Assert.Equal(expected, buffers[0]);
        }
        finally
        {
            foreach (var r in ring) r.Dispose();
            foreach (var s in strangers) s.Dispose();
        }
    }

    [Fact]
    public void ARankOfAnotherGenerationCannotJoin()
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        using var endpoint = RankEndpoint.Open(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), key);
        using var other = RankEndpoint.Open(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), key);
        var current = Task.Run(() => RingLinks.Join(0, 2, generation: 5, endpoint, other.Address, TimeSpan.FromSeconds(3)));
        var stale = Task.Run(() => RingLinks.Join(1, 2, generation: 4, other, endpoint.Address, TimeSpan.FromSeconds(3)));
        var e = Assert.Throws<AggregateException>(() => current.Wait(TimeSpan.FromSeconds(30)));
        Assert.IsType<RingBrokenException>(e.InnerException);
        Assert.Contains("rank 1 did not connect", e.InnerException!.Message);
        Assert.Throws<AggregateException>(() => stale.Wait(TimeSpan.FromSeconds(30)));
        Assert.True(endpoint.Refused >= 1, "the stale rank's link was not turned away");
    }

    [Fact]
    public void APeerThatDropsMidAllReduceFailsTheSumWithAClearErrorNotAHang()
    {
        var ring = LoopbackRing.Create(3, timeout: TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();
        var buffers = Buffers(3, 4_000_000, seed: 9);
        // rank 2 goes away while ranks 0 and 1 are in the middle of summing 16 MB
        var errors = new Exception?[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            try { ring[i].Sum(buffers[i]); }
            catch (Exception e) { errors[i] = e; }
        })).ToArray();
        foreach (var t in threads) t.Start();
        Thread.Sleep(200);
        ring[2].Dispose();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)));
        Assert.All(errors, e => Assert.IsType<RingBrokenException>(e));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the failure took {clock.Elapsed.TotalSeconds:F1} s to surface (timeout 20 s)");
        Assert.Contains(errors, e => e!.Message.Contains("rank"));
        foreach (var r in ring) r.Dispose();
    }

    [Fact]
    public void ASilentPeerIsATimeoutNamingIt()
    {
        var ring = LoopbackRing.Create(2, timeout: TimeSpan.FromSeconds(2));
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<RingBrokenException>(() => ring[0].Sum(new float[1000])); // rank 1 never sums
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 20);
        Assert.Contains("nothing for 2 s", e.Message);
        foreach (var r in ring) r.Dispose();
    }

    [Fact]
    public void ChunksCoverTheBufferInOrderAsEvenlyAsPossible()
    {
        Assert.Equal([(0L, 3L), (3L, 2L), (5L, 2L)], RingAllReduce.Chunks(7, 3));
        Assert.Equal([(0L, 1L), (1L, 0L), (1L, 0L)], RingAllReduce.Chunks(1, 3));
    }
}
