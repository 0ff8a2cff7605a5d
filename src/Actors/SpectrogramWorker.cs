using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Features;
using ActorTraining.Messages;
using TorchSharp;

namespace ActorTraining.Actors;

/// <summary>
/// Kaldi-compatible log-mel fbank of a decoded clip. Under Frame-Shift compression the hop is 10·C ms (the window
/// stays 25 ms), so the coarse spectrogram is computed directly, not derived. Each worker has its own extractor.
/// One of a pool; runs on the pipeline dispatcher.
/// </summary>
public sealed class SpectrogramWorker : ReceiveActor
{
    public SpectrogramWorker(PipelineSpec spec, IActorRef compressor, IActorRef batcher)
    {
        var shift = spec.Compression.FrameShiftMs(spec.BaseFrameShiftMs);
        var extractor = new FbankExtractor(new FbankOptions(FrameShiftMs: shift, MelBins: spec.MelBins));
        var log = Context.GetLogger();
        Receive<DecodedClip>(clip => ClipGuard.Run(clip.Item, "spectrogram", batcher, log, () =>
        {
            using var scope = torch.NewDisposeScope();
            var fbank = extractor.Compute(clip.Waveform);
            int frames = (int)fbank.shape[0];
            var values = fbank.contiguous().data<float>().ToArray();
            if (frames == 0)
            {
                batcher.Tell(new SampleFailed(clip.Item, "no audio samples"));
                return;
            }
            if (extractor.IsPadded(clip.Waveform.Length)) Context.System.EventStream.Publish(new ClipPadded(clip.Item, clip.Waveform.Length));
            compressor.Tell(new SpectrogramReady(clip.Item, values, frames, spec.MelBins, clip.Target));
        }));
    }

    public static Props Props(PipelineSpec spec, IActorRef compressor, IActorRef batcher) =>
        Akka.Actor.Props.Create(() => new SpectrogramWorker(spec, compressor, batcher));
}
