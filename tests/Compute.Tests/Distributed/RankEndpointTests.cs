using System.Net;
using System.Net.Sockets;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>
/// A rank's endpoint on the data plane: garbage, a truncated hello, a hello with absurd fields, another run's key, a
/// replayed handshake and a stale generation's link are turned away (each with a sentence naming the caller) while the
/// ring forms; a joining rank fetches the training state (a checkpoint stream, verified) from a live one; a refused
/// request, a stream whose chunk length is out of bounds, and a ring frame of the wrong length are clear errors, not
/// hangs or huge allocations.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class RankEndpointTests
{
    static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 0);
    static readonly byte[] Key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    static readonly byte[] OtherRunsKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    static Socket Connect(IPEndPoint to)
    {
        var s = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        s.Connect(to);
        return s;
    }

    /// <summary>What a client sends first (hello and nonce), and its proof once the server answered — as a recorder sees them.</summary>
    static (byte[] Opening, byte[] Proof) RecordedHandshake(IPEndPoint at, RankEndpoint.Hello hello)
    {
        using var s = Connect(at);
        var opening = new byte[RankEndpoint.Hello.Bytes + 16];
        hello.Write(opening);
        System.Security.Cryptography.RandomNumberGenerator.Fill(opening.AsSpan(RankEndpoint.Hello.Bytes));
        s.Send(opening);
        var answer = new byte[48];
        RingLinks.ReadExactly(s, answer);
        var proof = System.Security.Cryptography.HMACSHA256.HashData(Key, (byte[])[(byte)'C', .. opening, .. answer.AsSpan(0, 16)]);
        s.Send(proof);
        return (opening, proof);
    }

    [Fact]
    public void StrangersAreTurnedAwayNamedAndTheRingStillForms()
    {
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var a = RankEndpoint.Open(Loopback, Key, refused: refusals.Enqueue);
        using var b = RankEndpoint.Open(Loopback, Key, refused: refusals.Enqueue);
        var strangers = new List<Socket>();
        var (replayOpening, replayProof) = RecordedHandshake(a.Address, new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 3)); // generation 3: parked, then dropped
        foreach (var e in new[] { a.Address, b.Address })
        {
            var garbage = Connect(e);
            garbage.Send(Enumerable.Range(0, 64).Select(i => (byte)(i * 37)).ToArray());
            var truncated = Connect(e);
            var hello = new byte[RankEndpoint.Hello.Bytes];
            new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 7).Write(hello);
            truncated.Send(hello.AsSpan(0, 10));
            truncated.Shutdown(SocketShutdown.Send);
            var absurd = Connect(e); // a hello of ours in form, claiming a world of a billion ranks
            var big = new byte[RankEndpoint.Hello.Bytes + 16];
            new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 7).Write(big);
            BitConverter.TryWriteBytes(big.AsSpan(12), 1_000_000_000);
            absurd.Send(big);
            strangers.AddRange([garbage, truncated, absurd]);
            // another run's rank for this very generation, and a replay of a real handshake: neither gets past the proof
            Assert.Throws<RingBrokenException>(() => RankEndpoint.Connect(e, new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 7), OtherRunsKey,
                DateTime.UtcNow.AddSeconds(10), "a rank"));
            var replay = Connect(e);
            replay.Send(replayOpening);
            RingLinks.ReadExactly(replay, new byte[48]);
            replay.Send(replayProof);
            strangers.Add(replay);
        }
        var left = Task.Run(() => RingLinks.Join(0, 2, 7, a, b.Address, TimeSpan.FromSeconds(10)));
        var right = Task.Run(() => RingLinks.Join(1, 2, 7, b, a.Address, TimeSpan.FromSeconds(10)));
        using var ring0 = new RingAllReduce(left.Result);
        using var ring1 = new RingAllReduce(right.Result);
        var x = new float[] { 1, 2, 3 };
        var y = new float[] { 10, 20, 30 };
        var sums = new[] { Task.Run(() => ring0.Sum(x)), Task.Run(() => ring1.Sum(y)) };
        Assert.True(Task.WaitAll(sums, TimeSpan.FromSeconds(20)));
        Assert.Equal([11f, 22, 33], x);
        Assert.Equal(x, y);
        foreach (var s in strangers) s.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (refusals.Count < 10 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        var said = refusals.ToList();
        Assert.Contains(said, r => r.Contains("not a data-plane hello"));
        Assert.Contains(said, r => r.Contains("failed the run's authentication"));
        // another run's rank gives up on this one's answer (it cannot match it) and never proves itself; a replay proves the wrong nonce
        Assert.Equal(2, said.Count(r => r.Contains("did not finish the authentication")));
        Assert.Equal(2, said.Count(r => r.Contains("failed the run's authentication")));
        Assert.All(said, r => Assert.Matches(@"from 127\.0\.0\.1:\d+", r));
    }

    [Fact]
    public void ARingFrameOfTheWrongLengthBreaksTheRingBeforeItIsRead()
    {
        using var a = RankEndpoint.Open(Loopback, Key);
        using var b = RankEndpoint.Open(Loopback, Key);
        var join = Task.Run(() => RingLinks.Join(0, 2, 7, a, b.Address, TimeSpan.FromSeconds(10)));
        // rank 0's left neighbour, authenticated (an insider), sends a frame claiming 2 GB where 8 bytes are due
        using var liar = RankEndpoint.Connect(a.Address, new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 7), Key, DateTime.UtcNow.AddSeconds(10), "rank 0");
        using var ring = new RingAllReduce(join.Result);
        var header = new byte[RingLinks.FrameHeaderBytes];
        BitConverter.TryWriteBytes(header.AsSpan(4), int.MaxValue);
        liar.Send(header);
        var e = Assert.Throws<RingBrokenException>(() => ring.Sum(new float[3]));
        Assert.Contains("2147483647 bytes", e.Message);
    }

    [Fact]
    public void AJoiningRankFetchesTheLiveStateAndLoadsTheSameWeightsAndOptimiser()
    {
        var config = new AstConfig(EmbedDim: 64, Depth: 2, Heads: 4, NumClasses: 3, MelBins: 32, TargetLength: 64, FStride: 16, TStride: 16);
        using var model = TorchRng.Seeded(5, () => new AstModel(config));
        using var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
        using (var scope = NewDisposeScope())
            TrainingStep.Run(model, optimizer, randn(2, 64, 32), eye(3)[..2], LossKind.CrossEntropy); // some optimiser state
        var info = new TrainingCheckpointInfo(0, 1, 0, 2, [1, 0, 1e-3], TorchRng.Capture(), 5, 0, "h");
        using var source = RankEndpoint.Open(Loopback, Key, (hello, socket) =>
            StateTransfer.Serve(socket, hello.Generation == 4 ? s => CheckpointFile.Write(s, model, optimizer, info) : null, TimeSpan.FromSeconds(10)));
        var file = Path.GetTempFileName();
        try
        {
            long bytes = StateTransfer.Fetch(source.Address, 4, 1, 2, Key, file, TimeSpan.FromSeconds(10));
            Assert.Equal(new FileInfo(file).Length, bytes);
            using var copy = TorchRng.Preserving(() => new AstModel(config));
            using var copyOptimizer = TrainingStep.CreateOptimizer(copy, 1e-3);
            var loaded = CheckpointFile.Load(file, copy, copyOptimizer);
            Assert.Equal(info.Step, loaded.Step);
            Assert.Equal(optimizer.Steps, copyOptimizer.Steps);
            foreach (var ((_, p), (_, q)) in model.state_dict().Zip(copy.state_dict())) Assert.Equal(p.bytes.ToArray(), q.bytes.ToArray());
            foreach (var ((_, p), (_, q)) in optimizer.StateTensors().Zip(copyOptimizer.StateTensors())) Assert.Equal(p.bytes.ToArray(), q.bytes.ToArray());

            var refused = Assert.Throws<RingBrokenException>(() => StateTransfer.Fetch(source.Address, 3, 1, 2, Key, file, TimeSpan.FromSeconds(10)));
            Assert.Contains("refused", refused.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void AnOutOfBoundsChunkLengthIsAClearErrorBeforeAnythingIsAllocated()
    {
        using var liar = RankEndpoint.Open(Loopback, Key, (_, socket) =>
        {
            using (socket)
            {
                socket.Send([1]);                            // accepted
                socket.Send(BitConverter.GetBytes(int.MaxValue)); // a chunk of 2 GB
            }
        });
        var file = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<RingBrokenException>(() => StateTransfer.Fetch(liar.Address, 1, 1, 2, Key, file, TimeSpan.FromSeconds(10)));
            Assert.Contains("chunk of 2147483647 bytes", e.Message);
        }
        finally { File.Delete(file); }
    }
}
