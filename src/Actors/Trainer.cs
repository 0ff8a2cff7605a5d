using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Trains one phase at a time on orders from the <see cref="PhaseSupervisor"/> (its parent). All torch work runs on
/// the trainer's own <see cref="TorchThread"/>; results come back as messages, so the mailbox never blocks. Owns the
/// phase's data pipeline (a <see cref="Batcher"/> child with the chain behind it) and pulls from it: it keeps
/// <see cref="Prefetch"/> batches requested and asks for one more per finished step. Every checkpoint it writes is
/// proposed to the supervisor (<see cref="CommitCheckpoint"/>) and only trusted once the supervisor persisted it.
/// Failures go up, never sideways: an exception on the torch thread becomes <see cref="TrainingFaulted"/> (or, when a
/// person must act, <see cref="RunFailed"/>) to the supervisor; a failing pipeline stage escalates through the
/// batcher to this actor and on to the supervisor, which restarts training from the last committed checkpoint.
/// </summary>
public sealed class Trainer : ReceiveActor
{
    public const int Prefetch = 2;

    readonly RunSettings _settings;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly TorchThread _thread;
    TrainingSession? _session;
    PhasePlan? _phase;
    IActorRef? _batcher;
    long _epochSize;
    int _epoch;
    readonly Stopwatch _rateClock = new();
    long _rateSteps;

    public Trainer(RunSettings settings)
    {
        _settings = settings;
        _thread = new TorchThread($"trainer-{settings.RunIndex}");

        Receive<TrainPhase>(order =>
        {
            StopPipeline();
            var previous = _session;
            _session = null;
            _phase = order.Phase;
            _thread.Run(() =>
            {
                previous?.Dispose();
                return TrainingSession.Begin(settings, _thread, order);
            }).PipeTo(Self);
        });
        Receive<(TrainingSession Session, TrainingSession.Ready Ready)>(begun =>
        {
            _session = begun.Session;
            _epoch = begun.Ready.Epoch;
            _log.Info("phase {0} ({1} C={2}): epoch {3} from position {4}, step {5}", _phase!.Index, _phase.Method,
                _phase.Factor, begun.Ready.Epoch, begun.Ready.Position, begun.Ready.Step);
            _batcher = Context.ActorOf(Batcher.Props(settings.Pipeline(_phase, training: true), Self), $"pipeline-p{_phase.Index}");
            _epochSize = settings.TrainEntries.Count;
            _batcher.Tell(new StartEpoch(begun.Ready.Epoch, begun.Ready.Position));
            _batcher.Tell(new RequestBatches(Prefetch));
            _rateClock.Restart();
            _rateSteps = 0;
        });
        Receive<TrainingBatch>(_ => Sender.Equals(_batcher), batch =>
        {
            var session = _session!;
            _thread.Run(() => session.Step(batch)).PipeTo(Self);
        });
        Receive<TrainingSession.StepDone>(done =>
        {
            _batcher?.Tell(new RequestBatches(1));
            _rateSteps++;
            var rate = _rateSteps / Math.Max(1e-9, _rateClock.Elapsed.TotalSeconds);
            Context.Parent.Tell(new TrainingProgress(_phase!.Index, _settings.Curriculum.Count, _epoch, _phase.Epochs, done.Step,
                done.Position, _epochSize, done.Loss, rate));
            if (done.Checkpoint is { } c) Context.Parent.Tell(new CommitCheckpoint(c));
        });
        Receive<EpochDrained>(_ => Sender.Equals(_batcher), drained =>
        {
            var session = _session!;
            _thread.Run(() => session.EndEpoch(drained)).PipeTo(Self);
        });
        Receive<TrainingSession.EpochDone>(done =>
        {
            Context.Parent.Tell(new CommitCheckpoint(done.Checkpoint));
            _log.Info("phase {0} epoch {1} trained: {2} samples, {3:F1} s, trainer idle {4:F1} s", done.Checkpoint.Phase,
                done.Checkpoint.Epoch, done.Checkpoint.EpochSamples, done.Checkpoint.EpochWallSeconds, done.Checkpoint.EpochIdleSeconds);
            if (done.PhaseDone) StopPipeline();
            else
            {
                _epoch = done.Checkpoint.Epoch + 1;
                _batcher!.Tell(new StartEpoch(_epoch, 0));
            }
        });
        Receive<Status.Failure>(f =>
        {
            var cause = TrainingFailure.Unwrap(f.Cause);
            if (cause is TaskCanceledException or OperationCanceledException) return; // work dropped on the way out
            _log.Error("training failed: {0}", cause.Message);
            Context.Parent.Tell(TrainingFailure.Report("trainer", cause));
        });
    }

    void StopPipeline()
    {
        if (_batcher is null) return;
        Context.Stop(_batcher);
        _batcher = null;
    }

    protected override void PostStop()
    {
        var session = _session;
        _thread.Abandon(() => session?.Dispose());
    }

    // A pipeline stage that throws past its ClipGuard lost its message: the phase cannot go on, the supervisor decides.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    public static Props Props(RunSettings settings) => Akka.Actor.Props.Create(() => new Trainer(settings));
}
