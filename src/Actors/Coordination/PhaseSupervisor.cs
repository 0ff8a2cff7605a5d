using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Owns one run: decides (<see cref="RunState"/>, <see cref="GenerationRoster"/>), persists what it decided, then tells
/// the ranks, the evaluations and its children (<see cref="RunReporter"/>, <see cref="CheckpointJanitor"/>,
/// <see cref="WeightAverager"/>). A fault (a rank's exception, or no progress for the stall timeout) restarts training
/// from the last committed checkpoint, at most <see cref="RecoverySettings.MaxRestarts"/> times in a row.
/// </summary>
public sealed class PhaseSupervisor : ReceivePersistentActor, IWithTimers
{
    /// <summary>Journal identity of run <paramref name="runIndex"/> (0 = the curriculum, k = compare[k−1]) of run directory <paramref name="runId"/>.</summary>
    public static string IdOf(string runId, int runIndex) => $"run-{runId}-phase-supervisor-r{runIndex}";

    sealed record WatchdogTick;
    sealed record Settled;
    sealed record RestartNow(int Generation);
    sealed record Announce(ISupervisorEvent Event);

    /// <summary>How long a supervisor that took over a run waits for the last generation's ranks to register again.</summary>
    static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(5);

    readonly RunSettings _settings;
    readonly IActorRef _listener;
    readonly RecoverySettings _recovery;
    readonly int _minNodes; // nodes whose ranks must be in before the run's first generation (--min-nodes)
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly Watchdog _watchdog;
    readonly IActorRef _reporter, _janitor, _averager;
    readonly EvaluationDealer _evaluations;
    readonly ReplicaCheck _replicas = new();
    RunState _state = RunState.Empty;
    GenerationRoster _roster;
    bool _restarting;     // waiting out a restart's back-off
    bool _fromJournal;    // the next generation starts from the journal (after a fault)
    bool _started;        // StartRun came: the journal is read
    DateTime _settleUntil;
    (ProbeRequest Request, IActorRef Rank)? _probing; // the probe of the next resolution under way

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public PhaseSupervisor(string persistenceId, RunSettings settings, IActorRef listener, RecoverySettings recovery, int minNodes = 1)
    {
        (PersistenceId, _settings, _listener, _recovery, _minNodes) = (persistenceId, settings, listener, recovery, minNodes);
        _roster = new GenerationRoster(settings.RunIndex);
        _reporter = Context.ActorOf(RunReporter.Props(settings, listener), "reporter");
        _janitor = Context.ActorOf(CheckpointJanitor.Props(), "janitor");
        _averager = Context.ActorOf(WeightAverager.Props(), "averager");
        _evaluations = new EvaluationDealer(settings);
        _watchdog = new Watchdog(recovery);

        Recover<ISupervisorEvent>(e => _state = _state.Apply(e));

        Command<StartRun>(start =>
        {
            IReadOnlyList<ISupervisorEvent> events;
            try { events = _state.Process(start); }
            catch (Exception ex) when (ex is RunConfigMismatchException or ArgumentException) { _listener.Tell(new RunFailed(ex.Message)); return; }
            _started = true;
            _listener.Tell(new JournalAvailable());
            _settleUntil = DateTime.UtcNow + SettleTime;
            _reporter.Tell(new RunReporter.Epochs(_state)); // epochs a crash kept from the log
            if (_state.Completed && _state.FinalCheckpoint() is { } final) { _listener.Tell(new RunCompleted(final.Path, final.Sha256)); return; }
            if (_state.Stuck is { } stuck) { _listener.Tell(new RunFailed(stuck.Reason)); return; }
            Timers.StartPeriodicTimer("watchdog", new WatchdogTick(), _recovery.WatchdogInterval);
            _watchdog.Progress();
            _log.Info("run {0}: phase {1}, {2} committed checkpoints, {3} evaluated epochs, generation {4}", _settings.RunIndex,
                _state.CurrentPhase, _state.Checkpoints.Count, _state.Epochs.Count, _state.Generation);
            if (events.Count == 0) Consider();
            else PersistAll(events, OnPersisted);
        });
        Command<RankRoster>(r =>
        {
            Act(_roster.Process(r.Ranks, _state, _started));
            var present = r.Ranks.Select(x => x.Rank).ToHashSet();
            _evaluations.DropLost(present, Context);
            if (_probing is { } p && !present.Contains(p.Rank)) _probing = null; // probed again by another rank
            Consider();
        });
        Command<CommitCheckpoint>(c => c.Generation == _roster.Current?.Number && _roster.IsMember(Sender), c =>
        {
            FaultInjection.At("supervisor.commit");
            _watchdog.Progress();
            var from = Sender;
            var ack = new CommitAcknowledged(_settings.RunIndex, c.Generation, c.Checkpoint.Path);
            var events = _state.Process(c);
            if (events.Count == 0) from.Tell(ack); // already in the journal (sent again after an outage), or superseded
            else PersistAll(events, e => { OnPersisted(e); from.Tell(ack); });
        });
        Command<EvaluationDone>(_ => _evaluations.IsCollector(Sender), d => { _watchdog.Progress(); _evaluations.Done(d); PersistAll(_state.Process(d), OnPersisted); });
        Command<WeightsAveraged>(_ => Sender.Equals(_averager), w => PersistAll(_state.Process(w), OnPersisted));
        Command<ProbeMeasured>(m => _probing is { } p && p.Request.Key == (m.Result.Phase, m.Result.Epoch, m.Result.Purpose), m =>
        {
            _watchdog.Progress();
            _probing = null;
            PersistAll(_state.Process(m.Result), OnPersisted);
        });
        Command<ProbeFailed>(f => _probing is { } p && (p.Request.From.Index, p.Request.Epoch) == (f.Phase, f.Epoch), f =>
        {
            _probing = null;
            Fault(new TrainingFaulted("prober", f.Cause));
        });
        Command<WeightAverager.Failed>(f => Fault(new TrainingFaulted("weight averaging", TrainingFailure.Describe(f.Cause))));
        Command<EvaluationProgress>(_ => _evaluations.IsCollector(Sender), _ => _watchdog.Progress());
        Command<TrainingProgress>(_ => _roster.IsMember(Sender), p =>
        {
            _watchdog.Progress();
            _reporter.Tell(new RunReporter.Step(p, _state));
            _listener.Tell(p);
        });
        Command<GenerationReady>(r => r.Generation == _roster.Current?.Number, r =>
        {
            _watchdog.Progress();
            _log.Info("generation {0}: member {1} ready ({2})", r.Generation, r.Index, r.StartedFrom);
            if (r.Index == 0 && r.Pretrained is not null) _listener.Tell(r);
        });
        Command<RankStopped>(s => { Act(_roster.Process(s, Sender)); Consider(); });
        Command<ReplicaHash>(h => h.Generation == _roster.Current?.Number, h =>
            { if (_replicas.Diverged(h, _roster.Current!.Ranks.Count) is { } divergence) Self.Tell(new TrainingFaulted("trainer", divergence, h.Generation)); });
        Command<TrainingFaulted>(f =>
            { if (f.Generation < 0 ? FromCurrent(Sender) || Sender.Equals(Self) : f.Generation == _roster.Current?.Number) Fault(f); });
        Command<RunFailed>(f => FromCurrent(Sender) || _roster.Busy.Contains(Sender), f => { Stop(); _listener.Tell(f); });
        Command<WatchdogTick>(_ =>
            { if (Running && _watchdog.Stall(_roster.Current?.Training == true || _evaluations.Any || _probing is not null || _roster.Busy.Count > 0) is { } stall) Self.Tell(new TrainingFaulted("watchdog", stall)); });
        Command<RestartNow>(r => r.Generation == _state.LiveFloor, _ => { _restarting = false; Consider(); });
        Command<Settled>(_ => Consider());
        // after the rest of its persisted batch is applied (the scheduler's decision from an epoch's score is in its record)
        Command<Announce>(a => _reporter.Tell(new RunReporter.Epochs(_state, a.Event)));
        Command<GetRunState>(_ => Sender.Tell(_state));
        Command<IControlMessage>(_ => { }); // of a replaced generation, or a rank not ours
        Command<Terminated>(_ => { });      // collectors end themselves
    }

    bool Running => !_restarting && !_state.Completed && _state.GaveUp is null && _state.Stuck is null;

    void Deal() => _evaluations.Deal(_state, _roster.Ranks.Select(r => r.Rank).ToList(), Context);

    /// <summary>Has the probe the adaptive scheduler waits for run by a rank (the first), unless one is under way.</summary>
    void Probe()
    {
        if (!Running || _state.PendingProbe() is not { } request || _probing?.Request == request || _roster.Ranks.Count == 0) return;
        var rank = _roster.Ranks[0].Rank;
        _probing = (request, rank);
        _log.Info("phase {0}: probing phase {1}'s resolution from epoch {2} ({3}, {4} steps)", request.From.Index, request.To.Index,
            request.Epoch + 1, request.Purpose, request.Steps);
        rank.Tell(new ProbeNextPhase(_settings.RunIndex, request, Self));
    }

    bool FromCurrent(IActorRef sender) => _roster.IsMember(sender) || _evaluations.IsCollector(sender);

    /// <summary>Folds the roster's events in and tells the ranks what each asks of them.</summary>
    void Act(IReadOnlyList<RosterEvent> events)
    {
        foreach (var e in events)
        {
            _roster = _roster.Apply(e);
            foreach (var (to, message) in RosterOrders.Of(e, _roster)) to.Tell(message);
            if (RosterOrders.Note(e, _roster) is var (level, text)) _log.Log(level, text);
            if (e is RosterEvent.GenerationAdopted) _watchdog.Progress();
        }
    }

    /// <summary>Forms the next generation when there is something to train, ranks to train it and none of them training.</summary>
    void Consider()
    {
        if (!_started || !Running) return;
        // ranks still training an earlier supervisor's generation that could not be taken on as it is: stop them, once settled
        if (_roster.Current is null && _roster.Busy.Count > 0 && DateTime.UtcNow < _settleUntil) Timers.StartSingleTimer("settle", new Settled(), _settleUntil - DateTime.UtcNow);
        else if (_roster.Current is null) Act(_roster.PauseBusy());
        Deal();
        AverageIfDue();
        Probe();
        switch (_roster.Next(_state, _minNodes, _fromJournal, _settings.TrainEntries.Count, DateTime.UtcNow, _settleUntil, ClusterMembers.Up(Context.System)))
        {
            case Formation.Wait w:
                _log.Info(w.Why);
                if (w.Retry is { } retry) Timers.StartSingleTimer("settle", new Settled(), retry);
                break;
            case Formation.Form f:
                Form(f);
                break;
        }
    }

    void Form(Formation.Form f)
    {
        var (e, start, ranks) = f;
        Act([new RosterEvent.GenerationClaimed(GenerationMembers.Of(e.Generation, e.Phase, ranks))]);
        Persist(e, persisted =>
        {
            _state = _state.Apply(persisted);
            _fromJournal = false;
            Act([new RosterEvent.GenerationStarted()]);
            _replicas.Clear();
            _log.Info(f.Describe());
            for (int i = 0; i < ranks.Count; i++)
                ranks[i].Rank.Tell(new JoinGeneration(_settings.RunIndex, persisted.Generation, _state.Phases[persisted.Phase], persisted.Members, i, start));
            _watchdog.Progress();
            _listener.Tell(persisted);
            var present = _roster.Ranks.Select(r => r.Rank).ToHashSet();
            if (ranks.Any(r => !present.Contains(r.Rank))) Self.Tell(new RankRoster(_roster.Ranks)); // one left while this was persisted
        });
    }

    /// <summary>Has the weights of the last phase's final epochs averaged once it is trained (<see cref="RunState.AveragingInputs"/>).</summary>
    void AverageIfDue()
    {
        if (_state.AveragingInputs() is { } inputs)
            _averager.Tell(new WeightAverager.Average(_settings.RunIndex, _state.Phases.Length - 1, _state.AveragedEpochs!, inputs));
    }

    void Fault(TrainingFaulted fault)
    {
        if (!Running) return; // one restart at a time
        _restarting = true;
        _log.Error("training fault in the {0}: {1}", fault.Component, fault.Cause);
        PersistAll(_state.ProcessFault(fault, _recovery.MaxRestarts), OnPersisted);
    }

    /// <summary>Tells every rank of the current generation to stop and drop what it holds, and drops the evaluations under way.</summary>
    void Stop() { Act(_roster.Drop()); _evaluations.DropAll(Context); _probing = null; }

    void OnPersisted(ISupervisorEvent e)
    {
        _state = _state.Apply(e);
        if (e is CheckpointCommitted or WeightsAveraged or EpochCompleted or AveragedWeightsEvaluated)
            _janitor.Tell(new CheckpointJanitor.Delete(_state.CheckpointsToDelete()));
        // once metrics.jsonl has it (a probe: the decision it led to, about an epoch already logged)
        if (e is EpochCompleted or AveragedWeightsEvaluated or RunCompleted or PhaseProbed) Self.Tell(new Announce(e));
        else if (e is not RestartBudgetSpent and not CurriculumStuck) _listener.Tell(e);
        if (e is EpochCompleted or PhaseProbed) Probe(); // the scheduler may now wait for one
        switch (e)
        {
            case CheckpointCommitted or WeightsAveraged:
                if (e is WeightsAveraged or CheckpointCommitted { EpochComplete: true }) Deal(); // only these add an evaluation
                AverageIfDue();
                if (e is CheckpointCommitted) FaultInjection.PauseProcessFrom("supervisor.pause-after-commit");
                break;
            case RunCompleted:
                Timers.Cancel("watchdog");
                break;
            case TrainingRestarted r:
                Stop();
                _fromJournal = true;
                _log.Warning(_recovery.Describe(r));
                Timers.StartSingleTimer("restart", new RestartNow(r.Generation), _recovery.BackoffBefore(r.Attempt));
                break;
            case CurriculumStuck stuck:
                Stop();
                Timers.Cancel("watchdog");
                _log.Error(stuck.Reason);
                _listener.Tell(new RunFailed(stuck.Reason));
                break;
            case RestartBudgetSpent spent:
                Stop();
                Timers.Cancel("watchdog");
                _listener.Tell(new RunFailed(RecoverySettings.Describe(spent)));
                break;
            case PhaseLengthDecided d:
                _log.Info("phase {0}: {1} after epoch {2}'s score — {3}", d.Phase,
                    d.EndsPhase ? $"ends after {d.PhaseEpochs} epochs" : $"gets epoch {d.PhaseEpochs}", d.Epoch + 1, d.Reason);
                if (!d.EndsPhase && _roster.Current is { } g && g.Phase == d.Phase)
                    foreach (var rank in g.Active) rank.Tell(new ExtendPhase(_settings.RunIndex, g.Number, d.Phase, d.PhaseEpochs));
                Consider(); // members that already stopped at the old end are formed again
                break;
            case PhaseStarted or RestartBudgetReset:
                Consider();
                break;
        }
    }

    // The journal's database gone: this actor stops; the coordinator starts it again once the database answers.
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    { _listener.Tell(JournalFailure.Report(cause, "write")); base.OnPersistFailure(cause, @event, sequenceNr); }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    { _listener.Tell(JournalFailure.Report(reason, "read")); base.OnRecoveryFailure(reason, message); }

    // A child that throws is a bug in it (its own failures are messages): stop it; an evaluation is dealt again.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(ex => { Self.Tell(new TrainingFaulted("evaluator", TrainingFailure.Describe(ex))); return Directive.Stop; });

    public static Props Props(string persistenceId, RunSettings settings, IActorRef listener, RecoverySettings recovery, int minNodes = 1) =>
        Akka.Actor.Props.Create(() => new PhaseSupervisor(persistenceId, settings, listener, recovery, minNodes));
}
