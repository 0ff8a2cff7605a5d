using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Compression;
using ActorTraining.Messages;
using TorchSharp;

namespace ActorTraining.Actors;

/// <summary>
/// Applies the phase's temporal compression to a 10 ms spectrogram: pooling over time (kernel = stride = C) for
/// <c>pool</c>. Frame-Shift was already applied by the spectrogram stage and <c>patch</c> compresses inside the
/// model (larger time patches), so for those the spectrogram passes through.
/// </summary>
public sealed class Compressor : ReceiveActor
{
    public Compressor(PipelineSpec spec, IActorRef batcher)
    {
        var compression = spec.Compression;
        var pools = compression.Method == CompressionMethod.Pool && !compression.IsFull;
        var log = Context.GetLogger();
        Receive<SpectrogramReady>(s => ClipGuard.Run(s.Item, "compression", batcher, log, () =>
        {
            if (!pools) { batcher.Tell(s); return; }
            if (s.Frames < compression.Factor)
            {
                batcher.Tell(new SampleFailed(s.Item, $"{s.Frames} frames, fewer than the pooling factor {compression.Factor}"));
                return;
            }
            using var scope = torch.NewDisposeScope();
            var pooled = compression.ApplyToFbank(torch.tensor(s.Values, [s.Frames, s.MelBins]));
            batcher.Tell(s with { Values = pooled.contiguous().data<float>().ToArray(), Frames = (int)pooled.shape[0] });
        }));
    }

    public static Props Props(PipelineSpec spec, IActorRef batcher) => Akka.Actor.Props.Create(() => new Compressor(spec, batcher));
}
