using Akka.Actor;
using Akka.Event;
using Akka.Dispatch;
using Akka.Routing;
using ActorTraining.Compute.Distributed;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The pipeline's front door and last stage. It creates the chain upstream of it (reader → decoders → spectrogram
/// workers → compressors, <see cref="PipelineStages"/>) as its children, so the whole chain of one consumer lives on one node, and it
/// controls the flow: it asks the reader for work only while fewer than <see cref="PipelineSpec.InFlightLimit"/>
/// items are between the reader and a formed batch (in any stage, waiting for reordering, or in ready batches),
/// and sends batches only against the consumer's <see cref="RequestBatches"/> demand. Memory is therefore bounded
/// by the limit, whatever the corpus size. Forms the share's part of each global batch strictly in position order, never arrival order: a
/// batch goes out once its last position is in (a training share sends every batch, empty parts included, so each
/// rank takes part in each step).
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
    EpochShare _share;
    OrderedBuffer<Prepared> _buffer = new(0);
    long _batch;          // the global batch being formed
    long _requested;      // items asked of the reader this epoch
    long _taken;          // items taken out of the ordered buffer this epoch
    bool _readerDone;
    readonly List<(long Position, Prepared Item)> _current = [];
    readonly Queue<TrainingBatch> _ready = new();
    int _readyItems;
    int _demand;
    bool _drained;

    public Batcher(PipelineSpec spec, IActorRef consumer)
    {
        _spec = spec;
        _consumer = consumer;
        _sampleSize = spec.InputFrames * spec.MelBins;

        _reader = Context.ActorOf(CorpusReader.Props(spec, PipelineStages.Start(Context, Context.System, spec, Self)), "reader");

        Receive<StartEpoch>(s =>
        {
            _epoch = s.Epoch;
            long total = spec.Entries.Count;
            _share = spec.Share.Of(Math.Min(s.FromPosition, total), total);
            _buffer = new OrderedBuffer<Prepared>(_share.NextFrom(_share.Origin), p => _share.NextFrom(p + 1));
            _batch = 0;
            _requested = _taken = 0;
            _readerDone = false;
            _current.Clear();
            _ready.Clear();
            _readyItems = 0;
            _drained = false;
            _reader.Tell(s);
            Drain();
            Pump();
        });
        Receive<RequestBatches>(r =>
        {
            _demand += r.Count;
            Pump();
        });
        Receive<SamplePrepared>(s => s.Item.Epoch == _epoch, s =>
        {
            if (spec.Shuffle) FaultInjection.At("batcher.prepare");
            if (!spec.Shuffle && FaultInjection.Fires("evaluator.pipeline-stops")) { Context.Stop(Self); return; }
            _buffer.Add(s.Item.Position, new Prepared(s.Values, s.Target));
            if (spec.Shuffle && FaultInjection.Fires("batcher.duplicate")) _buffer.Add(s.Item.Position, new Prepared(s.Values, s.Target));
            Drain();
            Pump();
        });
        Receive<SampleFailed>(f => f.Item.Epoch == _epoch, f =>
        {
            _log.Debug("skipped {0}: {1}", f.Item.AudioPath, f.Reason); // the run's monitor says it once per run
            Context.System.EventStream.Publish(f);
            _buffer.Add(f.Item.Position, new Prepared([], [], f.Item.AudioPath));
            Drain();
            Pump();
        });
        Receive<EpochEnd>(e => e.Epoch == _epoch, _ =>
        {
            _readerDone = true;
            Drain();
            Pump();
        });
    }

    /// <summary>Takes what is in order, and sends on every batch whose positions of this share are all in.</summary>
    void Drain()
    {
        if (_epoch < 0 || _drained) return;
        foreach (var (position, item) in _buffer.TakeReady())
        {
            _taken++;
            var batch = _share.BatchOf(position);
            while (_batch < batch) Form(); // an earlier batch's part is complete: a later position came
            _current.Add((position, item));
        }
        // the batch being formed is complete when the buffer waits for a position past it (or for none: the end)
        while (_batch < _share.Batches && _buffer.Next >= _share.Range(_batch).End) Form();
        if (_batch >= _share.Batches && _readerDone) _drained = true;
    }

    void Form()
    {
        var (start, end) = _share.Range(_batch);
        if (_spec.Share.EveryBatch || end > start) _ready.Enqueue(MakeBatch());
        else _current.Clear();
        _batch++;
    }

    TrainingBatch MakeBatch()
    {
        var rows = _current.Where(c => c.Item.SkippedPath is null).ToList();
        int n = rows.Count, classes = _spec.Labels.Count;
        var inputs = new float[n * _sampleSize];
        var targets = new float[n * classes];
        for (int i = 0; i < n; i++)
        {
            rows[i].Item.Values.CopyTo(inputs, i * _sampleSize);
            rows[i].Item.Target.CopyTo(targets, i * classes);
        }
        var skipped = _current.Where(c => c.Item.SkippedPath is not null).Select(c => c.Item.SkippedPath!).ToList();
        var batch = new TrainingBatch(_epoch, _batch, _share.EndOf(_batch), n, _spec.InputFrames, _spec.MelBins, inputs, classes, targets,
            rows.Select(r => r.Position).ToArray(), skipped);
        _readyItems += _current.Count;
        _current.Clear();
        return batch;
    }

    void Pump()
    {
        while (_demand > 0 && _ready.Count > 0)
        {
            var batch = _ready.Dequeue();
            _readyItems -= batch.Size + batch.Skipped.Count;
            _consumer.Tell(batch);
            _demand--;
        }
        if (_drained && _ready.Count == 0 && _epoch >= 0)
        {
            _consumer.Tell(new EpochDrained(_epoch, _share.Total, []));
            _epoch = -1;
            return;
        }
        if (_epoch < 0 || _readerDone) return;
        var held = (_requested - _taken) + _current.Count + _readyItems;
        var room = _spec.InFlightLimit - held;
        if (room > 0)
        {
            _reader.Tell(new RequestWork((int)room));
            _requested += room;
        }
    }

    // Any stage failing past its ClipGuard (or the reader) has lost work the batch order waits for: never restart it
    // quietly (that hung the epoch), fail the whole pipeline up to its consumer.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    public static Props Props(PipelineSpec spec, IActorRef consumer) => Akka.Actor.Props.Create(() => new Batcher(spec, consumer));
}
