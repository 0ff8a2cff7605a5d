using Akka.Actor;
using Akka.Event;
using Akka.Dispatch;
using Akka.Routing;
using ActorTraining.Compute.Features;
using ActorTraining.Messages;
using TorchSharp;

namespace ActorTraining.Actors;

/// <summary>
/// The pipeline's front door and last stage. It creates the chain upstream of it (reader → decoder pool →
/// spectrogram pool → compressor) as its children, so the whole chain of one consumer lives on one node, and it
/// controls the flow: it asks the reader for work only while fewer than <see cref="PipelineSpec.InFlightLimit"/>
/// items are between the reader and a formed batch (in any stage, waiting for reordering, or in ready batches),
/// and sends batches only against the consumer's <see cref="RequestBatches"/> demand. Memory is therefore bounded
/// by the limit, whatever the corpus size. Prepares each sample (pad/cut, SpecAugment seeded from the sample,
/// normalise) and forms batches strictly in work-item order, never arrival order.
/// </summary>
public sealed class Batcher : ReceiveActor
{
    // A prepared sample, or the path of a file that was skipped at this position.
    sealed record Prepared(float[] Values, float[] Target, string? SkippedPath = null);

    readonly PipelineSpec _spec;
    readonly IActorRef _consumer;
    readonly IActorRef _reader;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly int _sampleSize;
    int _epoch = -1;
    OrderedBuffer<Prepared> _buffer = new(0);
    long _requestedEnd;
    long? _total;
    readonly List<Prepared> _current = [];
    readonly List<string> _skipped = [];
    readonly Queue<TrainingBatch> _ready = new();
    int _demand;
    bool _drained;

    public Batcher(PipelineSpec spec, IActorRef consumer)
    {
        _spec = spec;
        _consumer = consumer;
        _sampleSize = spec.InputFrames * spec.MelBins;

        var dispatcher = Context.System.Dispatchers.HasDispatcher(PipelineDispatcher.Id) ? PipelineDispatcher.Id : Dispatchers.DefaultDispatcherId;
        var workers = Math.Max(1, spec.Workers);
        var compressor = Context.ActorOf(Compressor.Props(spec, Self).WithDispatcher(dispatcher), "compressor");
        var spectrograms = Context.ActorOf(SpectrogramWorker.Props(spec, compressor, Self).WithDispatcher(dispatcher)
            .WithRouter(new RoundRobinPool(workers)), "spectrogram");
        var decoders = Context.ActorOf(DecoderWorker.Props(spec, spectrograms, Self).WithDispatcher(dispatcher)
            .WithRouter(new RoundRobinPool(workers)), "decoder");
        _reader = Context.ActorOf(CorpusReader.Props(spec, decoders), "reader");

        Receive<StartEpoch>(s =>
        {
            _epoch = s.Epoch;
            _buffer = new OrderedBuffer<Prepared>(s.FromPosition);
            _requestedEnd = s.FromPosition;
            _total = null;
            _current.Clear();
            _skipped.Clear();
            _ready.Clear();
            _drained = false;
            _reader.Tell(s);
            Pump();
        });
        Receive<RequestBatches>(r =>
        {
            _demand += r.Count;
            Pump();
        });
        Receive<SpectrogramReady>(s => s.Item.Epoch == _epoch, s =>
        {
            if (spec.Shuffle) FaultInjection.At("batcher.prepare");
            if (!spec.Shuffle && FaultInjection.Fires("evaluator.pipeline-stops")) { Context.Stop(Self); return; }
            _buffer.Add(s.Item.Position, Prepare(s));
            if (spec.Shuffle && FaultInjection.Fires("batcher.duplicate")) _buffer.Add(s.Item.Position, Prepare(s));
            Drain();
            Pump();
        });
        Receive<SampleFailed>(f => f.Item.Epoch == _epoch, f =>
        {
            _log.Warning("skipped unreadable audio {0}: {1}", f.Item.AudioPath, f.Reason);
            Context.System.EventStream.Publish(f);
            _buffer.Add(f.Item.Position, new Prepared([], [], f.Item.AudioPath));
            Drain();
            Pump();
        });
        Receive<EpochEnd>(e => e.Epoch == _epoch, e =>
        {
            _total = e.Positions;
            Drain();
            Pump();
        });
    }

    Prepared Prepare(SpectrogramReady s)
    {
        using var scope = torch.NewDisposeScope();
        var fbank = AstPreprocessing.PadOrCut(torch.tensor(s.Values, [s.Frames, s.MelBins]), _spec.InputFrames);
        if (_spec.Augment && (_spec.FreqMask > 0 || _spec.TimeMask > 0))
            fbank = AstPreprocessing.SpecAugment(fbank, _spec.FreqMask, _spec.TimeMask, new Random(s.Item.SampleSeed ^ 0x5EC));
        fbank = AstPreprocessing.Normalize(fbank, _spec.Mean, _spec.Std);
        return new Prepared(fbank.contiguous().data<float>().ToArray(), s.Target);
    }

    void Drain()
    {
        foreach (var item in _buffer.TakeReady())
        {
            if (item.SkippedPath is { } skipped) { _skipped.Add(skipped); continue; }
            _current.Add(item);
            if (_current.Count == _spec.BatchSize) _ready.Enqueue(MakeBatch(_buffer.Next));
        }
        if (!_drained && _total is { } total && _buffer.Next >= total)
        {
            if (_current.Count > 0) _ready.Enqueue(MakeBatch(total));
            _drained = true;
        }
    }

    TrainingBatch MakeBatch(long endPosition)
    {
        int n = _current.Count, classes = _spec.Labels.Count;
        var inputs = new float[n * _sampleSize];
        var targets = new float[n * classes];
        for (int i = 0; i < n; i++)
        {
            _current[i].Values.CopyTo(inputs, i * _sampleSize);
            _current[i].Target.CopyTo(targets, i * classes);
        }
        var batch = new TrainingBatch(_epoch, endPosition, n, _spec.InputFrames, _spec.MelBins, inputs, classes, targets, SkippedSoFar());
        _current.Clear();
        return batch;
    }

    IReadOnlyList<string> SkippedSoFar()
    {
        var list = _skipped.ToArray();
        _skipped.Clear();
        return list;
    }

    void Pump()
    {
        while (_demand > 0 && _ready.Count > 0)
        {
            _consumer.Tell(_ready.Dequeue());
            _demand--;
        }
        if (_drained && _ready.Count == 0 && _epoch >= 0)
        {
            _consumer.Tell(new EpochDrained(_epoch, _total ?? _buffer.Next, SkippedSoFar()));
            _epoch = -1;
            return;
        }
        if (_epoch < 0 || (_total is { } t && _requestedEnd >= t)) return;
        var held = (_requestedEnd - _buffer.Next) + _current.Count + _ready.Count * (long)_spec.BatchSize;
        var room = _spec.InFlightLimit - held;
        if (room > 0)
        {
            _reader.Tell(new RequestWork((int)room));
            _requestedEnd += room;
        }
    }

    // Any stage failing past its ClipGuard (or the reader) has lost work the batch order waits for: never restart it
    // quietly (that hung the epoch), fail the whole pipeline up to its consumer.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    public static Props Props(PipelineSpec spec, IActorRef consumer) => Akka.Actor.Props.Create(() => new Batcher(spec, consumer));
}
