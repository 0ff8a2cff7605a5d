using System.Net;
using System.Net.Sockets;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>
/// A rank's endpoint on the data plane: garbage, a truncated hello and a stale generation's link are turned away while
/// the ring forms; a joining rank fetches the training state (a checkpoint stream, verified) from a live one; a refused
/// request, and a stream whose chunk length is out of bounds, are clear errors, not hangs or huge allocations.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class RankEndpointTests
{
    static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 0);

    static Socket Connect(IPEndPoint to)
    {
        var s = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        s.Connect(to);
        return s;
    }

    [Fact]
    public void GarbageTruncatedHellosAndStaleLinksAreTurnedAwayAndTheRingStillForms()
    {
        using var a = RankEndpoint.Open(Loopback);
        using var b = RankEndpoint.Open(Loopback);
        var strangers = new List<Socket>();
        foreach (var e in new[] { a.Address, b.Address })
        {
            var garbage = Connect(e);
            garbage.Send(Enumerable.Range(0, 64).Select(i => (byte)(i * 37)).ToArray());
            var truncated = Connect(e);
            var hello = new byte[RankEndpoint.Hello.Bytes];
            new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 7).Write(hello);
            truncated.Send(hello.AsSpan(0, 10));
            truncated.Shutdown(SocketShutdown.Send);
            var stale = Connect(e);
            new RankEndpoint.Hello(RankEndpoint.Purpose.Ring, 2, 1, 6).SendOn(stale); // a link of generation 6
            strangers.AddRange([garbage, truncated, stale]);
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
        Assert.True(a.Refused >= 2 && b.Refused >= 2, $"refused {a.Refused} and {b.Refused}");
        foreach (var s in strangers) s.Dispose();
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
        using var source = RankEndpoint.Open(Loopback, (hello, socket) =>
            StateTransfer.Serve(socket, hello.Generation == 4 ? s => CheckpointFile.Write(s, model, optimizer, info) : null, TimeSpan.FromSeconds(10)));
        var file = Path.GetTempFileName();
        try
        {
            long bytes = StateTransfer.Fetch(source.Address, 4, 1, 2, file, TimeSpan.FromSeconds(10));
            Assert.Equal(new FileInfo(file).Length, bytes);
            using var copy = TorchRng.Preserving(() => new AstModel(config));
            using var copyOptimizer = TrainingStep.CreateOptimizer(copy, 1e-3);
            var loaded = CheckpointFile.Load(file, copy, copyOptimizer);
            Assert.Equal(info.Step, loaded.Step);
            Assert.Equal(optimizer.Steps, copyOptimizer.Steps);
            foreach (var ((_, p), (_, q)) in model.state_dict().Zip(copy.state_dict())) Assert.Equal(p.bytes.ToArray(), q.bytes.ToArray());
            foreach (var ((_, p), (_, q)) in optimizer.StateTensors().Zip(copyOptimizer.StateTensors())) Assert.Equal(p.bytes.ToArray(), q.bytes.ToArray());

            var refused = Assert.Throws<RingBrokenException>(() => StateTransfer.Fetch(source.Address, 3, 1, 2, file, TimeSpan.FromSeconds(10)));
            Assert.Contains("refused", refused.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void AnOutOfBoundsChunkLengthIsAClearErrorBeforeAnythingIsAllocated()
    {
        using var liar = RankEndpoint.Open(Loopback, (_, socket) =>
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
            var e = Assert.Throws<RingBrokenException>(() => StateTransfer.Fetch(liar.Address, 1, 1, 2, file, TimeSpan.FromSeconds(10)));
            Assert.Contains("chunk of 2147483647 bytes", e.Message);
        }
        finally { File.Delete(file); }
    }
}
