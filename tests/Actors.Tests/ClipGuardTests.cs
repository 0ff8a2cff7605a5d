using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Actors;
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
    public void AWorkerThatThrowsFailsTheClipAndGoesOn()
    {
        var folder = Directory.CreateTempSubdirectory("clip-guard-").FullName;
        try
        {
            var (train, _, labels) = TestCorpus.Synthetic(folder, clipsPerClass: 1);
            var spec = TestCorpus.Spec(train, labels, workers: 1, training: false, factor: 2);
            var batcher = CreateTestProbe();
            var worker = PipelineStages.Start(Sys, Sys, spec, batcher.Ref);
            float[] target = new float[labels.Count];
            target[0] = 1;

            // a mixup partner's target shorter than the clip's: an inconsistency no file causes, so an internal error
            worker.Tell(new WorkItem(0, 0, train[0].AudioPath, target, train[1].AudioPath, [], 7));
            var failed = batcher.ExpectMsg<SampleFailed>(TimeSpan.FromSeconds(20));
            Assert.Equal(0, failed.Item.Position);
            Assert.StartsWith("decoding failed on an internal error", failed.Reason);
            Assert.DoesNotContain("Exception", failed.Reason);

            // the same stages still prepare the next clip: pooled by 2 to the phase's 64 frames of 64 mel bins
            worker.Tell(new WorkItem(0, 1, train[1].AudioPath, target, null, null, 7));
            var prepared = batcher.ExpectMsg<SamplePrepared>(TimeSpan.FromSeconds(20));
            Assert.Equal((1L, 64 * 64), (prepared.Item.Position, prepared.Values.Length));
        }
        finally { Directory.Delete(folder, true); }
    }
}
