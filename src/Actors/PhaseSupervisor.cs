using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Owns the curriculum and is the single source of truth about a run: what phase it is in, which checkpoints are
/// trusted, which epochs are evaluated. Its journal (see <see cref="PersistenceConfig"/>) is what a restarted
/// `train` resumes from. Logic lives in <see cref="RunState"/>; this actor persists, then acts on what it persisted:
/// orders the trainer into phases (with the transfer source), has committed epoch ends evaluated, deletes checkpoint
/// files only after a newer commit made them unnecessary, and tells the listener how the run goes.
/// </summary>
public sealed class PhaseSupervisor : ReceivePersistentActor
{
    /// <summary>
    /// Journal identity of run <paramref name="runIndex"/> (0 = the curriculum, k = compare[k−1]) of the run directory
    /// <paramref name="runId"/> (<see cref="RunIdentity"/>).
    /// </summary>
    public static string IdOf(string runId, int runIndex) => $"run-{runId}-phase-supervisor-r{runIndex}";

    readonly Props _trainerProps;
    readonly Props _evaluatorProps;
    readonly IActorRef _listener;
    readonly ILoggingAdapter _log = Context.GetLogger();
    RunState _state = RunState.Empty;
    IActorRef? _trainer;
    IActorRef? _evaluator;

    public override string PersistenceId { get; }

    public PhaseSupervisor(string persistenceId, Props trainerProps, Props evaluatorProps, IActorRef listener)
    {
        PersistenceId = persistenceId;
        _trainerProps = trainerProps;
        _evaluatorProps = evaluatorProps;
        _listener = listener;

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
            _trainer = Context.ActorOf(_trainerProps, "trainer");
            _evaluator = Context.ActorOf(_evaluatorProps, "evaluator");
            Context.Watch(_trainer);
            Context.Watch(_evaluator);
            if (events.Count > 0) PersistAll(events, OnPersisted);
            else Resume();
        });
        Command<CommitCheckpoint>(c => PersistAll(_state.Process(c), OnPersisted));
        Command<EvaluationDone>(d => PersistAll(_state.Process(d), OnPersisted));
        Command<RunFailed>(f => _listener.Tell(f));
        Command<TrainingProgress>(p => _listener.Tell(p));
        Command<Terminated>(t => _listener.Tell(new RunFailed($"{t.ActorRef.Path.Name} stopped unexpectedly")));
        Command<GetRunState>(_ => Sender.Tell(_state));
    }

    /// <summary>A restarted run: retrain from where the journal says, re-run evaluations that a crash interrupted.</summary>
    void Resume()
    {
        _log.Info("resuming run: phase {0}, {1} committed checkpoints, {2} evaluated epochs",
            _state.CurrentPhase, _state.Checkpoints.Count, _state.Epochs.Count);
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
                var manifest = CheckpointManifest.PathFor(path);
                if (File.Exists(manifest)) File.Delete(manifest);
            }
            catch (IOException ex) { _log.Warning("could not delete superseded checkpoint {0}: {1}", path, ex.Message); }
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _listener.Tell(new RunFailed($"could not write the run journal: {cause.Message}"));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _listener.Tell(new RunFailed($"could not read the run journal: {reason.Message}"));
        base.OnRecoveryFailure(reason, message);
    }

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _listener.Tell(new RunFailed(ex.Message));
        return Directive.Stop;
    });

    public static Props Props(string persistenceId, Props trainer, Props evaluator, IActorRef listener) =>
        Akka.Actor.Props.Create(() => new PhaseSupervisor(persistenceId, trainer, evaluator, listener));
}
