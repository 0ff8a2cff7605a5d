using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Actors;
using ActorTraining.Compute.Data;
using ActorTraining.Messages;
using Xunit.Abstractions;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// A pipeline worker that meets an error nobody anticipated fails that clip (the batcher gets <see cref="SampleFailed"/>
/// and moves on) and keeps working: before, the exception restarted the worker, the clip's message was lost and the
/// batcher, which keeps clip order, waited for it forever (a benchmark run stalled that way).
/// </summary>
public sealed class ClipGuardTests(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void ACompressorThatThrowsFailsTheClipAndGoesOn()
    {
        var spec = new PipelineSpec([], new LabelSet(["/m/a"], ["a"]), Seed: 1, Shuffle: false, Augment: false, MixupProbability: 0,
            BaseFrameShiftMs: 10, MelBins: 4, FineTargetFrames: 8, Compression: Compute.Compression.Compression.Parse("pool", 2, "max"), InputFrames: 4,
            Mean: 0, Std: 1, FreqMask: 0, TimeMask: 0, BatchSize: 1, Workers: 1, Share: Compute.Distributed.DataShare.Whole(1));
        var batcher = CreateTestProbe();
        var compressor = Sys.ActorOf(Compressor.Props(spec, batcher.Ref));
        WorkItem Item(long position) => new(0, position, $"clip{position}.wav", [1f], null, null, 7);

        // 8 frames x 4 bins announced, 5 values sent: the tensor cannot be built
        compressor.Tell(new SpectrogramReady(Item(0), new float[5], 8, 4, [1f]));
        var failed = batcher.ExpectMsg<SampleFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, failed.Item.Position);
        Assert.StartsWith("compression failed on an internal error", failed.Reason);
        Assert.DoesNotContain("Exception", failed.Reason);

        // the same worker still handles the next clip
        compressor.Tell(new SpectrogramReady(Item(1), new float[32], 8, 4, [1f]));
        var pooled = batcher.ExpectMsg<SpectrogramReady>(TimeSpan.FromSeconds(10));
        Assert.Equal((1L, 4), (pooled.Item.Position, pooled.Frames));
    }
}
