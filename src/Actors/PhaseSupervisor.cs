using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Owns the curriculum and is the single source of truth about a run: what phase it is in, which checkpoints are
/// trusted, which epochs are evaluated, how often it was restarted. Its journal (see <see cref="PersistenceConfig"/>)
/// is what a restarted `train` resumes from. Logic lives in <see cref="RunState"/>; this actor persists, then acts on
/// what it persisted: orders the trainer into phases (with the transfer source), has committed epoch ends evaluated,
/// deletes checkpoint files only after a newer commit made them unnecessary, and tells the listener how the run goes.
/// <para>Recovery inside the process: a fault — an exception in the trainer, the evaluator or any stage of their
/// pipelines, either one stopping, or the watchdog seeing no training step and no evaluation batch for the stall
/// timeout — is a <see cref="TrainingFaulted"/>. The supervisor persists a <see cref="TrainingRestarted"/>, stops both
/// children (their torch threads are abandoned, not waited for), waits the back-off and starts a new generation
/// from the journal exactly as a new process would: the last committed checkpoint's weights, optimiser, LR schedule,
/// data position and RNG, and the evaluations still pending. Only <see cref="RecoverySettings.MaxRestarts"/>
/// faults in a row (an evaluated epoch resets the count) end the run, naming the cause. Messages from children of an
/// older generation are ignored.</para>
/// </summary>
public sealed class PhaseSupervisor : ReceivePersistentActor, IWithTimers
{
    /// <summary>
    /// Journal identity of run <paramref name="runIndex"/> (0 = the curriculum, k = compare[k−1]) of the run directory
    /// <paramref name="runId"/> (<see cref="RunIdentity"/>).
    /// </summary>
    public static string IdOf(string runId, int runIndex) => $"run-{runId}-phase-supervisor-r{runIndex}";

    sealed record WatchdogTick;
    sealed record RestartNow(int Generation);

    readonly Props _trainerProps;
    readonly Props _evaluatorProps;
    readonly IActorRef _listener;
    readonly RecoverySettings _recovery;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly Stopwatch _sinceProgress = new();
    RunState _state = RunState.Empty;
    IActorRef? _trainer;
    IActorRef? _evaluator;
    readonly HashSet<IActorRef> _retired = []; // children of older generations: what they still send is ignored
    bool _restarting;

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public PhaseSupervisor(string persistenceId, Props trainerProps, Props evaluatorProps, IActorRef listener, RecoverySettings recovery)
    {
        PersistenceId = persistenceId;
        _trainerProps = trainerProps;
        _evaluatorProps = evaluatorProps;
        _listener = listener;
        _recovery = recovery;

        Recover<ISupervisorEvent>(e => _state = _state.Apply(e));

        Command<StartRun>(start =>
        {
            IReadOnlyList<ISupervisorEvent> events;
            try { events = _state.Process(start); }
            catch (Exception ex) when (ex is RunConfigMismatchException or ArgumentException)
            {
                _listener.Tell(new RunFailed(ex.Message));
                return;
            }
            if (_state.Completed)
            {
                var last = _state.LastCheckpoint()!;
                _listener.Tell(new RunCompleted(last.Path, last.Sha256));
                return;
            }
            StartChildren();
            Timers.StartPeriodicTimer("watchdog", new WatchdogTick(), _recovery.WatchdogInterval);
            if (events.Count == 0) Resume();
            else PersistAll(events, e =>
            {
                OnPersisted(e);
                if (e is RestartBudgetReset) Resume();
            });
        });
        Command<CommitCheckpoint>(_ => !Retired(), c =>
        {
            FaultInjection.At("supervisor.commit");
            _sinceProgress.Restart();
            PersistAll(_state.Process(c), OnPersisted);
        });
        Command<EvaluationDone>(_ => !Retired(), d =>
        {
            _sinceProgress.Restart();
            PersistAll(_state.Process(d), OnPersisted);
        });
        Command<TrainingProgress>(p =>
        {
            if (Sender.Equals(_trainer)) _sinceProgress.Restart();
            _listener.Tell(p);
        });
        Command<EvaluationProgress>(_ => { if (Sender.Equals(_evaluator)) _sinceProgress.Restart(); });
        Command<TrainingFaulted>(_ => !Retired(), Fault);
        Command<RunFailed>(_ => !Retired(), f =>
        {
            StopChildren();
            _listener.Tell(f);
        });
        Command<Terminated>(t =>
        {
            var which = t.ActorRef.Equals(_trainer) ? "trainer" : t.ActorRef.Equals(_evaluator) ? "evaluator" : null;
            if (which is not null) Self.Tell(new TrainingFaulted(which, $"the {which} stopped unexpectedly"));
        });
        Command<WatchdogTick>(_ =>
        {
            if (_restarting || _state.Completed || _state.GaveUp is not null || _trainer is null) return;
            if (_sinceProgress.Elapsed.TotalSeconds > _recovery.StallTimeoutSeconds)
                Self.Tell(new TrainingFaulted("watchdog",
                    $"no training step and no evaluation batch for {_sinceProgress.Elapsed.TotalSeconds:F0} s (stall timeout {_recovery.StallTimeoutSeconds:F0} s)"));
        });
        Command<RestartNow>(r => r.Generation == _state.Generation, _ =>
        {
            _restarting = false;
            StartChildren();
            Resume();
        });
        Command<GetRunState>(_ => Sender.Tell(_state));
        // what a retired child still had on its way
        Command<CommitCheckpoint>(_ => { });
        Command<EvaluationDone>(_ => { });
        Command<TrainingFaulted>(_ => { });
        Command<RunFailed>(_ => { });
    }

    bool Retired() => _retired.Contains(Sender);

    void Fault(TrainingFaulted fault)
    {
        if (_restarting || _state.Completed || _state.GaveUp is not null) return; // one restart at a time
        _restarting = true;
        _log.Error("training fault in the {0}: {1}", fault.Component, fault.Cause);
        PersistAll(_state.ProcessFault(fault, _recovery.MaxRestarts), OnPersisted);
    }

    void StartChildren()
    {
        var generation = _state.Generation;
        _trainer = Context.ActorOf(_trainerProps, generation == 0 ? "trainer" : $"trainer-g{generation}");
        _evaluator = Context.ActorOf(_evaluatorProps, generation == 0 ? "evaluator" : $"evaluator-g{generation}");
        Context.Watch(_trainer);
        Context.Watch(_evaluator);
        _sinceProgress.Restart();
    }

    void StopChildren()
    {
        foreach (var child in new[] { _trainer, _evaluator })
        {
            if (child is null) continue;
            _retired.Add(child);
            Context.Unwatch(child);
            Context.Stop(child);
        }
        _trainer = _evaluator = null;
    }

    /// <summary>A (re)started run: retrain from where the journal says, re-run evaluations a crash or fault interrupted.</summary>
    void Resume()
    {
        _log.Info("resuming run: phase {0}, {1} committed checkpoints, {2} evaluated epochs, generation {3}",
            _state.CurrentPhase, _state.Checkpoints.Count, _state.Epochs.Count, _state.Generation);
        foreach (var pending in _state.PendingEvaluations()) _evaluator!.Tell(pending);
        if (_state.TrainOrder() is { } order) _trainer!.Tell(order);
    }

    void OnPersisted(ISupervisorEvent e)
    {
        _state = _state.Apply(e);
        switch (e)
        {
            case PhaseStarted:
                _listener.Tell(e);
                if (_state.TrainOrder() is { } order) _trainer!.Tell(order);
                break;
            case CheckpointCommitted c:
                DeleteUnneededCheckpoints();
                if (c.EpochComplete) _evaluator!.Tell(new EvaluateCheckpoint(new CheckpointRef(c.Path, c.Sha256), _state.Phases[c.Phase], c.Epoch));
                _listener.Tell(e);
                FaultInjection.PauseProcessFrom("supervisor.pause-after-commit");
                break;
            case TrainingRestarted r:
                StopChildren();
                var wait = _recovery.BackoffBefore(r.Attempt);
                _log.Warning("restart {0} of at most {1} in a row (generation {2}) in {3:F1} s, from the last committed checkpoint",
                    r.Attempt, _recovery.MaxRestarts, r.Generation, wait.TotalSeconds);
                Timers.StartSingleTimer("restart", new RestartNow(r.Generation), wait);
                _listener.Tell(e);
                break;
            case RestartBudgetSpent spent:
                StopChildren();
                Timers.Cancel("watchdog");
                _listener.Tell(new RunFailed(spent.Restarts == 0
                    ? $"{spent.Component}: {spent.Cause} (training.max-restarts = 0: no restart)"
                    : $"{spent.Component}: {spent.Cause} (after {spent.Restarts} restarts in a row from the last committed checkpoint)"));
                break;
            case RunCompleted:
                Timers.Cancel("watchdog");
                _listener.Tell(e);
                break;
            default:
                _listener.Tell(e);
                break;
        }
    }

    void DeleteUnneededCheckpoints()
    {
        foreach (var path in _state.CheckpointsToDelete())
        {
            try
            {
                if (File.Exists(path)) File.Delete(path);
            }
            catch (IOException ex) { _log.Warning("could not delete superseded checkpoint {0}: {1}", path, ex.Message); }
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _listener.Tell(new RunFailed($"could not write the run journal: {cause.Message}"));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    // A bug in the supervisor itself: a restarted instance would wait for a StartRun nobody sends again. Say so and
    // stop; the journal is intact, and rerunning `train` resumes.
    protected override void PreRestart(Exception reason, object message)
    {
        _listener.Tell(new RunFailed($"the phase supervisor failed: {TrainingFailure.Describe(reason)} — the journal is intact; rerun to resume"));
        base.PreRestart(reason, message);
    }

    protected override void PostRestart(Exception reason) => Context.Stop(Self);

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _listener.Tell(new RunFailed($"could not read the run journal: {reason.Message}"));
        base.OnRecoveryFailure(reason, message);
    }

    // A child that throws (the trainer or evaluator, or a pipeline stage escalating through them) is stopped and its
    // failure becomes a fault: restarted from the journal, never resumed from whatever state it failed in.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        var cause = TrainingFailure.Unwrap(ex);
        Self.Tell(TrainingFailure.Report("pipeline", cause, TrainingFailure.IsPermanent(cause) ? "" : $"{cause.GetType().Name}: "));
        return Directive.Stop;
    });

    public static Props Props(string persistenceId, Props trainer, Props evaluator, IActorRef listener, RecoverySettings recovery) =>
        Akka.Actor.Props.Create(() => new PhaseSupervisor(persistenceId, trainer, evaluator, listener, recovery));
}
