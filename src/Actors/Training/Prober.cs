using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Runs the adaptive scheduler's probes for one run, one at a time, beside training, from an epoch-end checkpoint: for
/// a slope probe, first the phase itself continued (its optimiser and schedule, the next epoch's batches) for the
/// requested steps; then the next phase's resolution, the weights carried over as the phase transfer does (same seed),
/// trained for its steps with a fresh optimiser and the next phase's learning rate. Each burst is scored before and
/// after on up to <see cref="EvalClips"/> evaluation clips at its resolution. The weights it trained are thrown away.
/// Its streams (clips, burst, clips, per part) come from pipelines read one after another, each at most
/// <see cref="Evaluator.Prefetch"/> batches ahead of the torch thread. It never moves the process's random generator.
/// </summary>
public sealed class Prober : ReceiveActor
{
    /// <summary>Evaluation clips a probe scores before and after its burst (all of a smaller evaluation set): the same
    /// clips both times, so the difference is paired; two passes over 256 clips cost about 1 % of a 24-epoch run's FLOPs
    /// on BENCHMARKS (a)'s corpus.</summary>
    public const int EvalClips = 256;

    sealed record Consumed;
    /// <summary>One stream a probe reads: a phase's evaluation clips or its training batches of an epoch, up to a count.</summary>
    sealed record Stream(PhasePlan Phase, bool Training, int Epoch, long Wanted);

    readonly RunSettings _settings;
    readonly TorchThread _thread;
    ProbeNextPhase? _current;
    BlockingCollection<TrainingBatch>[] _streams = [];
    IReadOnlyList<Stream> _plan = [];
    CancellationTokenSource? _abort;
    IActorRef? _batcher;
    int _stage;
    long _wanted, _given;

    public Prober(RunSettings settings)
    {
        _settings = settings;
        _thread = Evaluator.BesideTraining(settings, "prober");
        Idle();
    }

    void Idle()
    {
        Receive<ProbeNextPhase>(Start);
        Receive<Status.Failure>(_ => { }); // an abandoned probe's torch work
    }

    void Busy()
    {
        Receive<ProbeNextPhase>(order => { if (order.Request != _current!.Request) { Cancel(); Start(order); } });
        Receive<TrainingBatch>(_ => Sender.Equals(_batcher), b =>
        {
            if (_given++ < _wanted) _streams[_stage].Add(b);
            if (_given == _wanted) NextStage();
        });
        Receive<EpochDrained>(_ => Sender.Equals(_batcher), _ => NextStage());
        Receive<Consumed>(_ => _batcher?.Tell(new RequestBatches(1)));
        Receive<Terminated>(t => t.ActorRef.Equals(_batcher), _ => Fail("its pipeline stopped before the probe's batches were read"));
        Receive<PhaseProbed>(r => (r.Phase, r.Epoch, r.Purpose) == _current!.Request.Key, result =>
        {
            _current!.ReplyTo.Tell(new ProbeMeasured(_settings.RunIndex, result));
            Finish();
        });
        Receive<Status.Failure>(f =>
        {
            if (TrainingFailure.Unwrap(f.Cause) is OperationCanceledException) return;
            Fail(TrainingFailure.Describe(TrainingFailure.Unwrap(f.Cause)));
        });
    }

    void Start(ProbeNextPhase order)
    {
        _current = order;
        var request = order.Request;
        int batch = _settings.Config.Training.BatchSize;
        long clips = (Math.Min(EvalClips, _settings.EvalEntries.Count) + batch - 1) / batch;
        IEnumerable<Stream> Part(PhasePlan phase, int epoch, int steps) => [new(phase, false, 0, clips), new(phase, true, epoch, steps), new(phase, false, 0, clips)];
        _plan = [.. request.HereSteps > 0 ? Part(request.From, request.Epoch + 1, request.HereSteps) : [], .. Part(request.To, 0, request.Steps)];
        _streams = _plan.Select(_ => new BlockingCollection<TrainingBatch>()).ToArray();
        var abort = _abort = new CancellationTokenSource();
        var streams = _streams;
        var self = Self;
        var settings = _settings;
        _thread.Run(() => Measure(settings, request, streams, abort.Token, () => self.Tell(new Consumed()))).PipeTo(Self);
        _stage = -1;
        Become(Busy);
        NextStage();
    }

    /// <summary>Ends the stream being read and starts the next one's pipeline.</summary>
    void NextStage()
    {
        StopBatcher();
        if (_stage >= 0) _streams[_stage].CompleteAdding();
        if (++_stage >= _streams.Length) return;
        var stream = _plan[_stage];
        int batch = _settings.Config.Training.BatchSize;
        _wanted = stream.Wanted;
        _given = 0;
        var spec = _settings.Pipeline(stream.Phase, stream.Training, DataShare.Whole(batch));
        _batcher = Context.ActorOf(Batcher.Props(spec, Self), $"probe-{_stage}-{Guid.NewGuid():N}");
        Context.Watch(_batcher);
        _batcher.Tell(new StartEpoch(stream.Epoch, 0));
        _batcher.Tell(new RequestBatches(Evaluator.Prefetch));
    }

    /// <summary>The probe itself, on the torch thread.</summary>
    static PhaseProbed Measure(RunSettings settings, ProbeRequest request, BlockingCollection<TrainingBatch>[] streams, CancellationToken abort,
        Action consumed)
    {
        var clock = Stopwatch.StartNew();
        var device = settings.RankDevice;
        var training = settings.Config.Training;
        double evalFlops = 0;
        int next = 0; // the next stream to read

        double Score(AudioModel model)
        {
            double lossSum = 0, forward = FlopCounter.PerSample(model.Geometry).Forward;
            long clips = 0;
            foreach (var b in streams[next].GetConsumingEnumerable(abort))
            {
                consumed();
                if (b.Size == 0) continue;
                using var x = device.Tensor(b.Inputs, [b.Size, b.Frames, b.MelBins]);
                using var y = device.Tensor(b.Targets, [b.Size, b.NumClasses]);
                lossSum += Evaluation.Score(model, x, y, training.LossKind).LossSum;
                clips += b.Size;
            }
            abort.ThrowIfCancellationRequested();
            next++;
            if (clips == 0) throw new InvalidDataException("a probe found no readable evaluation clip");
            evalFlops += forward * clips;
            return lossSum / clips;
        }

        ProbeMeasure Burst(AudioModel model, AdamOptimizer optimizer, LrSchedule schedule)
        {
            double start = Score(model), flops = 0;
            var (forward, backward) = FlopCounter.PerSample(model.Geometry);
            using var exchange = new GradientExchange(model, null);
            int steps = 0;
            foreach (var b in streams[next].GetConsumingEnumerable(abort))
            {
                consumed();
                if (b.Size == 0) continue;
                optimizer.LearningRate = schedule.NextStep();
                using var x = device.Tensor(b.Inputs, [b.Size, b.Frames, b.MelBins]);
                using var y = device.Tensor(b.Targets, [b.Size, b.NumClasses]);
                TrainingStep.RunRank(model, optimizer, x, y, training.LossKind, exchange, b.Skipped.Count, pause: false, clipGradNorm: training.ClipGradNorm);
                flops += (forward + backward) * b.Size;
                steps++;
            }
            abort.ThrowIfCancellationRequested();
            next++;
            if (steps == 0) throw new InvalidDataException("a probe's burst found no readable training clip");
            return new ProbeMeasure(start, Score(model), steps, flops);
        }

        var here = new ProbeMeasure(double.NaN, double.NaN, 0, 0);
        using var source = device.Place(TorchRng.Preserving(() => AudioModel.Create(settings.PhaseModel(request.From))));
        using (var optimizer = TrainingStep.CreateOptimizer(source, request.From.Lr, training.AdamSettings))
        {
            var info = CommittedCheckpoint.Load(request.Checkpoint.Path, request.Checkpoint.Sha256, source, optimizer);
            if (request.HereSteps > 0)
            {
                // the phase as its trainer would go on: a copy of the checkpoint's weights, optimiser and schedule
                using var model = device.Place(TorchRng.Preserving(() => AudioModel.Create(settings.PhaseModel(request.From))));
                using var continued = TrainingStep.CreateOptimizer(model, request.From.Lr, training.AdamSettings);
                CommittedCheckpoint.Load(request.Checkpoint.Path, request.Checkpoint.Sha256, model, continued);
                here = Burst(model, continued, new LrSchedule(TrainingSession.ScheduleOf(settings, request.From), CommittedCheckpoint.Decode(info.LrScheduleState)));
            }
        }
        var target = settings.PhaseModel(request.To);
        // the transfer's seed, as the next phase will draw it; the generator is put back for the trainer beside
        using var transferred = device.Place(TorchRng.Preserving(() =>
            TorchRng.Seeded(SampleSeed.ForPhaseStart(training.Seed, request.To.Index), () => PhaseTransfer.Transfer(source, target))));
        using var fresh = TrainingStep.CreateOptimizer(transferred, request.To.Lr, training.AdamSettings);
        var there = Burst(transferred, fresh, new LrSchedule(TrainingSession.ScheduleOf(settings, request.To)));
        return new PhaseProbed(request.From.Index, request.Epoch, request.Purpose, there.Steps, there.StartLoss, there.Loss, there.TrainFlops,
            evalFlops, clock.Elapsed.TotalSeconds, here.Steps, here.StartLoss, here.Loss, here.TrainFlops);
    }

    void Fail(string cause)
    {
        _current!.ReplyTo.Tell(new ProbeFailed(_settings.RunIndex, _current.Request.From.Index, _current.Request.Epoch, "probe: " + cause));
        Finish();
    }

    void Cancel()
    {
        _abort?.Cancel();
        foreach (var s in _streams) s.CompleteAdding();
        StopBatcher();
    }

    void Finish()
    {
        Cancel();
        _current = null;
        Become(Idle);
    }

    void StopBatcher()
    {
        if (_batcher is null) return;
        Context.Unwatch(_batcher);
        Context.Stop(_batcher);
        _batcher = null;
    }

    protected override void PostStop()
    {
        _abort?.Cancel();
        foreach (var s in _streams) s.CompleteAdding();
        _thread.Dispose();
    }

    // A failing pipeline stage lost batches the probe waits for: the batcher stops, and the Terminated above reports it.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    public static Props Props(RunSettings settings) => Akka.Actor.Props.Create(() => new Prober(settings));
}
