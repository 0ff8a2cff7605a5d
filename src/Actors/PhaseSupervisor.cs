using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Owns one run of the experiment and is the single source of truth about it: what phase it is in, which checkpoints
/// are trusted, which epochs are evaluated, which generations of ranks trained it, how often it was restarted. Its
/// journal (see <see cref="PersistenceConfig"/>) is what a restarted run resumes from. Logic lives in
/// <see cref="RunState"/>; this actor persists, then acts on what it persisted. It lives inside the cluster
/// singleton (<see cref="RunCoordinator"/>), which tells it the ranks that can train (<see cref="Roster"/>).
/// <para>Generations. The supervisor forms a generation — the ranks, in ring order — when there is something to train
/// and no rank is training: from the most advanced state the ranks hold in memory when the journal allows it
/// (<see cref="RunState.FormGeneration"/>), else from the journal (the last committed checkpoint, the previous phase's
/// final one, or the seed). It journals <see cref="GenerationFormed"/> and sends each member its
/// <see cref="JoinGeneration"/>; from there the ranks train on their own (the ring keeps them in step) and member 0
/// commits checkpoints. A member lost (its node removed from the cluster): the others are told to
/// <see cref="AbortGeneration"/>, report the state they hold, and the next generation goes on from it — at most the
/// step in flight is redone, no position of the epoch is skipped or seen twice. A rank that joins: the generation is
/// paused (every member stops after the same step) and the next one includes it; it fetches the state from a member.
/// Each epoch end is evaluated sharded over all ranks (<see cref="EvaluationCollector"/>).</para>
/// <para>Recovery from faults: an exception in a rank's training or evaluation, or the watchdog seeing no training
/// step and no evaluation batch for the stall timeout, is a <see cref="TrainingFaulted"/>. The supervisor persists a
/// <see cref="TrainingRestarted"/>, tells the members to drop what they hold, waits the back-off and forms a new
/// generation from the journal. Only <see cref="RecoverySettings.MaxRestarts"/> faults in a row (an evaluated epoch
/// resets the count) end the run, naming the cause. Messages of replaced generations are ignored.</para>
/// </summary>
public sealed class PhaseSupervisor : ReceivePersistentActor, IWithTimers
{
    /// <summary>
    /// Journal identity of run <paramref name="runIndex"/> (0 = the curriculum, k = compare[k−1]) of the run directory
    /// <paramref name="runId"/> (<see cref="RunIdentity"/>).
    /// </summary>
    public static string IdOf(string runId, int runIndex) => $"run-{runId}-phase-supervisor-r{runIndex}";

    /// <summary>Coordinator → supervisor: every rank that can take part now, with the state each said it holds when it registered.</summary>
    public sealed record Roster(IReadOnlyList<RankRegistration> Ranks);

    /// <summary>Supervisor → coordinator, as it stops: the journal's database cannot be reached (<paramref name="Cause"/>); start me again later.</summary>
    public sealed record JournalOutage(string Cause);

    /// <summary>Supervisor → coordinator: the journal was read; it is there.</summary>
    public sealed record JournalAvailable;

    sealed record WatchdogTick;
    sealed record RestartNow(int Generation);
    sealed record Settled;
    sealed record WriteMetrics;
    sealed record AveragingFailed(Exception Cause);

    /// <summary>
    /// How long a supervisor that took over a run in progress (its coordinator moved to this node) waits for the ranks
    /// of the last generation that are still in the cluster to register again, before it forms a generation without
    /// them (they would join it through a pause and a state transfer).
    /// </summary>
    static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(5);

    /// <summary>A formed generation and what its members have said since.</summary>
    sealed class Members(int number, IReadOnlyList<RankRegistration> ranks, int phase)
    {
        public int Number { get; } = number;
        public int Phase { get; } = phase;
        public IReadOnlyList<RankRegistration> Ranks { get; } = ranks;
        public bool[] Stopped { get; } = new bool[ranks.Count];
        public bool[] Lost { get; } = new bool[ranks.Count];
        public bool PauseSent { get; set; }
        public int IndexOf(IActorRef rank) => Ranks.ToList().FindIndex(r => r.Rank.Equals(rank));
        public bool Training => Enumerable.Range(0, Ranks.Count).Any(i => !Stopped[i] && !Lost[i]);
        public IEnumerable<IActorRef> Active => Ranks.Where((_, i) => !Stopped[i] && !Lost[i]).Select(r => r.Rank);
    }

    /// <summary>An evaluation under way: its collector and the ranks holding its shards.</summary>
    sealed record Evaluation(IActorRef Collector, IReadOnlyList<IActorRef> Shards);

    readonly RunSettings _settings;
    readonly IActorRef _listener;
    readonly RecoverySettings _recovery;
    readonly int _minNodes;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly Stopwatch _sinceProgress = new();
    readonly MetricsLog _metrics;
    readonly TensorBoardLog _tensorBoard;
    (int Phase, long Steps) _stepsBefore = (-1, 0); // run steps before the phase in progress (TensorBoard's step axis)
    RunState _state = RunState.Empty;
    IReadOnlyList<RankRegistration> _roster = [];
    readonly Dictionary<IActorRef, LiveState?> _held = new();   // the state each rank last said it holds
    readonly HashSet<IActorRef> _busy = [];                     // ranks known to be training outside a generation of ours
    Members? _generation;
    bool _restarting;     // waiting out a restart's back-off
    bool _fromJournal;    // the next generation starts from the journal (after a fault)
    bool _started;
    bool _averaging;      // the weight averaging is being written, off the mailbox
    DateTime _settleUntil;
    int _round;
    readonly Dictionary<(int Phase, int Epoch), Evaluation> _evaluations = new();
    readonly Dictionary<(long Step, bool EpochEnd), Dictionary<int, string>> _hashes = new();

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="minNodes">Nodes whose ranks must be in before the run's first generation (`--min-nodes`); once the run
    /// has trained, it goes on with whoever is there.</param>
    public PhaseSupervisor(string persistenceId, RunSettings settings, IActorRef listener, RecoverySettings recovery, int minNodes = 1)
    {
        PersistenceId = persistenceId;
        _minNodes = minNodes;
        _settings = settings;
        _listener = listener;
        _recovery = recovery;
        _metrics = new MetricsLog(settings);
        _tensorBoard = new TensorBoardLog(settings);

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
            _started = true;
            _listener.Tell(new JournalAvailable());
            _settleUntil = DateTime.UtcNow + SettleTime;
            WriteMetricsNow(); // epochs a crash kept from the log
            if (_state.Completed)
            {
                var final = _state.FinalCheckpoint()!;
                _listener.Tell(new RunCompleted(final.Path, final.Sha256));
                return;
            }
            Timers.StartPeriodicTimer("watchdog", new WatchdogTick(), _recovery.WatchdogInterval);
            _sinceProgress.Restart();
            _log.Info("run {0}: phase {1}, {2} committed checkpoints, {3} evaluated epochs, generation {4}", _settings.RunIndex,
                _state.CurrentPhase, _state.Checkpoints.Count, _state.Epochs.Count, _state.Generation);
            if (events.Count == 0) Consider();
            else PersistAll(events, OnPersisted);
        });
        Command<Roster>(r => Update(r.Ranks));
        Command<CommitCheckpoint>(c => c.Generation == _generation?.Number && IsMember(Sender), c =>
        {
            FaultInjection.At("supervisor.commit");
            _sinceProgress.Restart();
            var from = Sender;
            var ack = new CommitAcknowledged(_settings.RunIndex, c.Generation, c.Checkpoint.Path);
            var events = _state.Process(c);
            if (events.Count == 0) from.Tell(ack); // already in the journal (sent again after an outage), or superseded
            else PersistAll(events, e =>
            {
                OnPersisted(e);
                from.Tell(ack);
            });
        });
        Command<CommitCheckpoint>(_ => { }); // of a replaced generation
        Command<EvaluationDone>(_ => IsCollector(Sender), d =>
        {
            _sinceProgress.Restart();
            _evaluations.Remove((d.Phase, d.Epoch));
            PersistAll(_state.Process(d), OnPersisted);
        });
        Command<WeightsAveraged>(_ => Sender.Equals(Self), w =>
        {
            _averaging = false;
            PersistAll(_state.Process(w), OnPersisted);
        });
        Command<AveragingFailed>(f =>
        {
            _averaging = false;
            Fault(new TrainingFaulted("weight averaging", TrainingFailure.Describe(f.Cause)));
        });
        Command<EvaluationProgress>(_ => { if (IsCollector(Sender)) _sinceProgress.Restart(); });
        Command<TrainingProgress>(p =>
        {
            if (!IsMember(Sender)) return;
            _sinceProgress.Restart();
            // the phases before this one are final once it trains: their steps are taken from the journal once per phase
            if (_stepsBefore.Phase != p.Phase) _stepsBefore = (p.Phase, _state.StepsBefore(p.Phase));
            _tensorBoard.Step(p, _stepsBefore.Steps, _log);
            _listener.Tell(p);
        });
        Command<GenerationReady>(r =>
        {
            if (r.Generation != _generation?.Number) return;
            _sinceProgress.Restart();
            _log.Info("generation {0}: member {1} ready ({2})", r.Generation, r.Index, r.StartedFrom);
            if (r.Index == 0 && r.Pretrained is not null) _listener.Tell(r);
        });
        Command<RankStopped>(Stopped);
        Command<ReplicaHash>(h => h.Generation == _generation?.Number, Compare);
        Command<ReplicaHash>(_ => { });
        Command<TrainingFaulted>(f =>
        {
            var fromCurrent = f.Generation < 0 ? IsMember(Sender) || IsCollector(Sender) || Sender.Equals(Self) : f.Generation == _generation?.Number;
            if (fromCurrent) Fault(f);
        });
        Command<RunFailed>(f =>
        {
            if (!IsMember(Sender) && !IsCollector(Sender) && !_busy.Contains(Sender)) return;
            Stop();
            _listener.Tell(f);
        });
        Command<WatchdogTick>(_ =>
        {
            if (_restarting || _state.Completed || _state.GaveUp is not null) return;
            bool expecting = _generation?.Training == true || _evaluations.Count > 0 || _busy.Count > 0;
            if (expecting && _sinceProgress.Elapsed.TotalSeconds > _recovery.StallTimeoutSeconds)
                Self.Tell(new TrainingFaulted("watchdog",
                    $"no training step and no evaluation batch for {_sinceProgress.Elapsed.TotalSeconds:F0} s (stall timeout {_recovery.StallTimeoutSeconds:F0} s)"));
        });
        Command<RestartNow>(r => r.Generation == _state.LiveFloor, _ =>
        {
            _restarting = false;
            Consider();
        });
        Command<Settled>(_ => Consider());
        Command<WriteMetrics>(_ => WriteMetricsNow());
        Command<GetRunState>(_ => Sender.Tell(_state));
        Command<Terminated>(_ => { }); // collectors end themselves
    }

    bool IsMember(IActorRef sender) => _generation?.IndexOf(sender) >= 0;

    bool IsCollector(IActorRef sender) => _evaluations.Values.Any(e => e.Collector.Equals(sender));

    void Update(IReadOnlyList<RankRegistration> ranks)
    {
        var known = _roster.Select(r => r.Rank).ToHashSet();
        _roster = ranks;
        var present = ranks.Select(r => r.Rank).ToHashSet();
        foreach (var r in ranks.Where(r => !known.Contains(r.Rank)))
        {
            _held[r.Rank] = r.Live;
            if (r.Live is { Running: true } live && live.RunIndex == _settings.RunIndex && live.Generation != _generation?.Number)
            {
                // still training a generation of a supervisor before this one (it started over: its node was lost, or
                // the journal's database was away). The last generation the journal names may be taken on as it is
                // (TryAdopt); any other is stopped where it is.
                _busy.Add(r.Rank);
                if (live.Generation != _state.Generations.LastOrDefault()?.Generation) Pause(r.Rank, live);
            }
        }
        TryAdopt();
        foreach (var gone in _held.Keys.Where(k => !present.Contains(k)).ToList())
        {
            _held.Remove(gone);
            _busy.Remove(gone);
        }
        if (_generation is { } g)
        {
            bool lost = false;
            for (int i = 0; i < g.Ranks.Count; i++)
                if (!g.Lost[i] && !present.Contains(g.Ranks[i].Rank))
                {
                    g.Lost[i] = lost = true;
                    _log.Warning("generation {0}: member {1} ({2}) is gone", g.Number, i, g.Ranks[i].Address);
                }
            if (lost)
                foreach (var rank in g.Active) rank.Tell(new AbortGeneration(_settings.RunIndex, g.Number, KeepState: true));
            bool joined = ranks.Any(r => g.IndexOf(r.Rank) < 0 && !_busy.Contains(r.Rank));
            if (joined && g.Training && !g.PauseSent && !lost)
            {
                g.PauseSent = true;
                _log.Info("generation {0}: pausing for {1} rank(s) joining", g.Number, ranks.Count(r => g.IndexOf(r.Rank) < 0));
                foreach (var rank in g.Active) rank.Tell(new PauseGeneration(_settings.RunIndex, g.Number));
            }
        }
        // an evaluation whose shard holder is gone is dealt again
        foreach (var (key, evaluation) in _evaluations.Where(e => e.Value.Shards.Any(s => !present.Contains(s))).ToList())
        {
            Context.Stop(evaluation.Collector);
            _evaluations.Remove(key);
        }
        Consider();
    }

    /// <summary>
    /// A supervisor that started over finds every member of the generation the journal names last registered and holding
    /// it (training, or stopped at the phase's end): it takes that generation on as it is — no new generation, no step
    /// lost — and the members send again the commits it has not acknowledged.
    /// </summary>
    void TryAdopt()
    {
        if (_generation is not null || !_started || _state.Generations.LastOrDefault() is not { } last) return;
        var members = last.Members.Select(m => _roster.FirstOrDefault(r => r.Address.Node == m.Node && r.Address.LocalRank == m.LocalRank)).ToList();
        if (members.Any(m => m is null || _held.GetValueOrDefault(m.Rank) is not { } l || l.RunIndex != _settings.RunIndex || l.Generation != last.Generation))
            return;
        var generation = new Members(last.Generation, members!, last.Phase);
        for (int i = 0; i < members.Count; i++)
        {
            // a member that had stopped tells so again after the commits it sends: nothing is formed before those are in
            var rank = members[i]!.Rank;
            _busy.Remove(rank);
            rank.Tell(new AdoptGeneration(_settings.RunIndex, last.Generation));
        }
        _generation = generation;
        _sinceProgress.Restart();
        _log.Info("generation {0}: taken on as it is, its {1} member(s) holding it ({2} training)", last.Generation, members.Count,
            members.Count(m => _held[m!.Rank] is { Running: true }));
    }

    readonly HashSet<IActorRef> _paused = [];

    void Pause(IActorRef rank, LiveState live)
    {
        if (_paused.Add(rank)) rank.Tell(new PauseGeneration(live.RunIndex, live.Generation));
    }

    void WriteMetricsNow() => _tensorBoard.Epochs(_metrics.Write(_state, _log), _log);

    protected override void PostStop()
    {
        _tensorBoard.Dispose();
        base.PostStop();
    }

    void Stopped(RankStopped s)
    {
        _held[Sender] = s.State;
        _paused.Remove(Sender);
        if (_busy.Remove(Sender)) _log.Info("rank {0} stopped a generation {1} of an earlier supervisor at step {2}", Sender.Path, s.Generation, s.State?.Step);
        if (_generation is { } g && s.Generation == g.Number && g.IndexOf(Sender) is var i and >= 0)
        {
            g.Stopped[i] = true;
            _log.Info("generation {0}: member {1} stopped ({2}{3})", g.Number, i, s.Reason, s.Detail.Length > 0 ? ": " + s.Detail : "");
            // a member whose ring broke (or never formed) leaves the others waiting in theirs: call the generation off
            if (s.Reason == RankStopReason.RingBroken)
                foreach (var rank in g.Active) rank.Tell(new AbortGeneration(_settings.RunIndex, g.Number, KeepState: true));
        }
        Consider();
    }

    /// <summary>Forms the next generation when there is something to train, ranks to train it and none of them training.</summary>
    void Consider()
    {
        if (!_started || _state.Completed || _state.GaveUp is not null || _restarting) return;
        if (_generation is null && _busy.Count > 0)
        {
            // ranks still training an earlier supervisor's generation that could not be taken on as it is: stop them
            if (DateTime.UtcNow < _settleUntil) Timers.StartSingleTimer("settle", new Settled(), _settleUntil - DateTime.UtcNow);
            else foreach (var rank in _busy.ToList()) if (_held.GetValueOrDefault(rank) is { } live) Pause(rank, live);
        }
        DispatchEvaluations();
        AverageIfDue();
        if (_roster.Count == 0 || _state.TrainOrder() is null) return;
        int nodes = _roster.Select(r => r.Address.Node).Distinct().Count();
        if (_state.Generations.Count == 0 && nodes < _minNodes)
        {
            _log.Info("ranks of {0} node(s) are in; waiting for {1} before the run's first generation", nodes, _minNodes);
            return;
        }
        if (_generation is null && DateTime.UtcNow < _settleUntil && MissingMembers() is { Count: > 0 } missing)
        {
            _log.Info("waiting up to {0:F1} s for the ranks of {1} to register again", (_settleUntil - DateTime.UtcNow).TotalSeconds, string.Join(", ", missing));
            Timers.StartSingleTimer("settle", new Settled(), _settleUntil - DateTime.UtcNow);
            return;
        }
        // survivors' states are only complete once every one of them stopped; after a fault nothing they hold counts
        if (!_fromJournal && (_generation?.Training == true || _busy.Count > 0)) return;
        var ranks = _roster.OrderBy(r => r.Address.Node, StringComparer.Ordinal).ThenBy(r => r.Address.LocalRank).ToList();
        var formed = _state.FormGeneration(ranks.Select(r => (r.Address, _held.GetValueOrDefault(r.Rank))).ToList(), _settings.RunIndex,
            _settings.TrainEntries.Count, _fromJournal);
        if (formed is not var (e, start)) return;
        _generation = new Members(e.Generation, ranks, e.Phase); // claimed now: the roster may change before it is persisted
        Persist(e, persisted =>
        {
            _state = _state.Apply(persisted);
            _fromJournal = false;
            _busy.Clear();
            _hashes.Clear();
            var plan = _state.Phases[persisted.Phase];
            _log.Info($"generation {persisted.Generation}: {ranks.Count} rank(s) on {ranks.Select(r => r.Address.Node).Distinct().Count()} node(s), " +
                $"phase {persisted.Phase} epoch {persisted.Epoch} position {persisted.Position} step {persisted.Step}, from {persisted.StartedFrom}");
            for (int i = 0; i < ranks.Count; i++)
                ranks[i].Rank.Tell(new JoinGeneration(_settings.RunIndex, persisted.Generation, plan, persisted.Members, i, start));
            _sinceProgress.Restart();
            _listener.Tell(persisted);
            var present = _roster.Select(r => r.Rank).ToHashSet();
            if (ranks.Any(r => !present.Contains(r.Rank))) Update(_roster); // one left while this was persisted
        });
    }

    /// <summary>Nodes of the last journaled generation that are still members of the cluster but have no rank registered here.</summary>
    IReadOnlyList<string> MissingMembers()
    {
        if (_state.Generations.LastOrDefault() is not { } last || Context.System is not ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider }) return [];
        var up = Akka.Cluster.Cluster.Get(Context.System).State.Members
            .Where(m => m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp or Akka.Cluster.MemberStatus.Joining)
            .Select(m => $"{m.Address.Host}:{m.Address.Port}").ToHashSet();
        var registered = _roster.Select(r => r.Address.Node).ToHashSet();
        return last.Members.Select(m => m.Node).Distinct().Where(n => up.Contains(n) && !registered.Contains(n)).ToList();
    }

    /// <summary>Deals every epoch end still to evaluate over all ranks (each takes every n-th batch).</summary>
    void DispatchEvaluations()
    {
        if (_roster.Count == 0) return;
        foreach (var pending in _state.PendingEvaluations())
        {
            var key = (pending.Phase.Index, pending.Epoch);
            if (_evaluations.ContainsKey(key)) continue;
            var round = ++_round;
            var shards = _roster.Select(r => r.Rank).ToList();
            long batches = (_settings.EvalEntries.Count + _settings.Config.Training.BatchSize - 1) / _settings.Config.Training.BatchSize;
            var collector = Context.ActorOf(EvaluationCollector.Props(pending, round, batches,
                EvaluationCollector.TargetsOf(_settings.EvalEntries, _settings.Labels), Self, pretext: _settings.Config.Training.Pretraining is not null),
                $"evaluation-p{key.Item1}-e{key.Item2}-{round}");
            _evaluations[key] = new Evaluation(collector, shards);
            for (int i = 0; i < shards.Count; i++)
                shards[i].Tell(new EvaluateShard(_settings.RunIndex, round, pending, i, shards.Count, collector));
        }
    }

    /// <summary>
    /// Writes the weight average once the last phase is trained (<see cref="RunState.AveragingInputs"/>), off the mailbox:
    /// pure file work (<see cref="Compute.Checkpoints.WeightAverage"/>, no torch), next to the checkpoints it reads. A kill
    /// meanwhile leaves at most a temporary file; the run resumed writes it again. A failure is a fault like any other.
    /// </summary>
    void AverageIfDue()
    {
        if (_averaging || _state.AveragingInputs() is not { } inputs) return;
        _averaging = true;
        int phase = _state.Phases.Length - 1;
        var range = _state.AveragedEpochs!;
        var output = Path.Combine(Path.GetDirectoryName(inputs[^1].Path)!,
            $"r{_settings.RunIndex}-p{phase}-averaged-e{range.FirstEpoch + 1}-e{range.LastEpoch + 1}.ckpt");
        _log.Info("phase {0}: averaging the weights of {1} ({2} checkpoints)", phase, range, inputs.Count);
        var files = inputs.Select(c => (c.Path, (string?)c.Sha256)).ToList();
        Task.Run(() =>
        {
            FaultInjection.At("supervisor.average");
            return new WeightsAveraged(phase, range, output, Compute.Checkpoints.WeightAverage.Write(files, output));
        }).PipeTo(Self, Self, failure: ex => new AveragingFailed(ex));
    }

    void Compare(ReplicaHash h)
    {
        var key = (h.Step, h.EpochEnd);
        if (!_hashes.TryGetValue(key, out var seen)) _hashes[key] = seen = new Dictionary<int, string>();
        seen[h.Index] = h.Hash;
        if (seen.Values.Distinct().Count() > 1)
            Self.Tell(new TrainingFaulted("trainer", $"the {_generation!.Ranks.Count} replicas diverged at step {h.Step}: parameter hashes " +
                string.Join(", ", seen.OrderBy(kv => kv.Key).Select(kv => kv.Value[..12])) + " (a ring that does not keep them bit-identical is a bug)", h.Generation));
        if (_generation is { } g && seen.Count >= g.Ranks.Count) _hashes.Remove(key);
    }

    void Fault(TrainingFaulted fault)
    {
        if (_restarting || _state.Completed || _state.GaveUp is not null) return; // one restart at a time
        _restarting = true;
        _log.Error("training fault in the {0}: {1}", fault.Component, fault.Cause);
        PersistAll(_state.ProcessFault(fault, _recovery.MaxRestarts), OnPersisted);
    }

    /// <summary>Tells every rank of the current generation to stop and drop what it holds, and drops the evaluations under way.</summary>
    void Stop()
    {
        if (_generation is { } g)
            foreach (var rank in g.Ranks.Where((_, i) => !g.Lost[i]).Select(r => r.Rank))
                rank.Tell(new AbortGeneration(_settings.RunIndex, g.Number, KeepState: false));
        foreach (var evaluation in _evaluations.Values) Context.Stop(evaluation.Collector);
        _evaluations.Clear();
        foreach (var rank in _held.Keys.ToList()) _held[rank] = null;
    }

    void OnPersisted(ISupervisorEvent e)
    {
        _state = _state.Apply(e);
        switch (e)
        {
            case PhaseStarted:
                _listener.Tell(e);
                Consider();
                break;
            case CheckpointCommitted c:
                DeleteUnneededCheckpoints();
                _listener.Tell(e);
                if (c.EpochComplete) DispatchEvaluations();
                AverageIfDue();
                FaultInjection.PauseProcessFrom("supervisor.pause-after-commit");
                break;
            case WeightsAveraged:
                DeleteUnneededCheckpoints(); // the epoch ends it read
                _listener.Tell(e);
                DispatchEvaluations();
                break;
            case EpochCompleted or AveragedWeightsEvaluated:
                DeleteUnneededCheckpoints(); // an epoch end kept for its evaluation (or the average's inputs it held) may go now
                // after the rest of its batch (the scheduler's decision from this score) is applied too
                Self.Tell(new WriteMetrics());
                _listener.Tell(e);
                break;
            case TrainingRestarted r:
                Stop();
                _fromJournal = true;
                var wait = _recovery.BackoffBefore(r.Attempt);
                _log.Warning("restart {0} of at most {1} in a row (generation {2}) in {3:F1} s, from the last committed checkpoint",
                    r.Attempt, _recovery.MaxRestarts, r.Generation, wait.TotalSeconds);
                Timers.StartSingleTimer("restart", new RestartNow(r.Generation), wait);
                _listener.Tell(e);
                break;
            case RestartBudgetSpent spent:
                Stop();
                Timers.Cancel("watchdog");
                _listener.Tell(new RunFailed(spent.Restarts == 0
                    ? $"{spent.Component}: {spent.Cause} (training.max-restarts = 0: no restart)"
                    : $"{spent.Component}: {spent.Cause} (after {spent.Restarts} restarts in a row from the last committed checkpoint)"));
                break;
            case RestartBudgetReset:
                _listener.Tell(e);
                Consider();
                break;
            case PhaseLengthDecided d:
                _log.Info("phase {0}: {1} after epoch {2}'s score — {3}", d.Phase,
                    d.EndsPhase ? $"ends after {d.PhaseEpochs} epochs" : $"gets epoch {d.PhaseEpochs}", d.Epoch + 1, d.Reason);
                _listener.Tell(e);
                if (!d.EndsPhase && _generation is { } g && g.Phase == d.Phase)
                    foreach (var rank in g.Active) rank.Tell(new ExtendPhase(_settings.RunIndex, g.Number, d.Phase, d.PhaseEpochs));
                Consider(); // members that already stopped at the old end are formed again
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

    // The journal's database gone (a restart, a fail-over, the network): this actor stops, as Akka.Persistence has it,
    // and the coordinator starts it again once the database answers; the ranks train on and hold their commits meanwhile.
    // Anything else is for a person to see.
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _listener.Tell(JournalFailure.IsOutage(cause)
            ? new JournalOutage(JournalFailure.Describe(cause))
            : new RunFailed($"could not write the run journal: {JournalFailure.Describe(cause)}"));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _listener.Tell(JournalFailure.IsOutage(reason)
            ? new JournalOutage(JournalFailure.Describe(reason))
            : new RunFailed($"could not read the run journal: {JournalFailure.Describe(reason)}"));
        base.OnRecoveryFailure(reason, message);
    }

    // A collector that throws is a bug in it: stop it; the evaluation is dealt again.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        Self.Tell(new TrainingFaulted("evaluator", TrainingFailure.Describe(ex)));
        return Directive.Stop;
    });

    public static Props Props(string persistenceId, RunSettings settings, IActorRef listener, RecoverySettings recovery, int minNodes = 1) =>
        Akka.Actor.Props.Create(() => new PhaseSupervisor(persistenceId, settings, listener, recovery, minNodes));
}
