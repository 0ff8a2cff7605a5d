using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The experiment's one coordinator — a cluster singleton: it lives on one node at a time (the oldest) and moves to
/// another when that node is lost, starting over from the journal. It runs the experiment's runs one after another
/// (the curriculum, then each comparison run), each driven by a persistent <see cref="PhaseSupervisor"/> child
/// (a finished run answers at once from its journal), keeps the roster of ranks the nodes registered
/// (<see cref="RegisterRanks"/>; a rank whose node is removed from the cluster leaves it, through DeathWatch), and
/// passes the roster on to the current run's supervisor. What happens in the runs goes to every
/// registered node (<see cref="RunEvent"/>), and at the end <see cref="ExperimentEnded"/>, so every node may exit.
/// </summary>
public sealed class RunCoordinator : ReceiveActor, IWithTimers
{
    sealed record Outcome(int RunIndex, RunState? State, string? Failure);
    sealed record RestartSupervisor(int RunIndex);
    sealed record RosterSettled;

    public ITimerScheduler Timers { get; set; } = null!;

    readonly IReadOnlyList<RunSettings> _runs;
    readonly string _runId;
    readonly int _minNodes;
    readonly RecoverySettings _recovery;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly Dictionary<IActorRef, RankRegistration> _ranks = new();
    readonly Dictionary<string, IActorRef> _nodes = new(); // node address → its NodeRanks, for events
    readonly List<RunOutcome> _outcomes = [];
    bool _reported; // the current run's supervisor told its outcome
    Exception? _supervisorFailure;
    DateTime? _outageSince;            // the journal's database has been away since
    string _outageCause = "";
    bool _overtaken;                   // the supervisor stopped because another one wrote the run's journal first
    int _incarnation;                  // supervisors started for the current run
    readonly HashSet<string> _awaiting = []; // nodes whose ranks must say again what they hold before the roster goes out
    int _run = -1;
    IActorRef? _supervisor;
    ExperimentEnded? _ended;

    public RunCoordinator(IReadOnlyList<RunSettings> runs, string runId, int minNodes, RecoverySettings recovery)
    {
        _runs = runs;
        _runId = runId;
        _minNodes = minNodes;
        _recovery = recovery;

        Receive<RegisterRanks>(r =>
        {
            if (_ended is not null) { Sender.Tell(_ended); return; }
            if (r.RunFingerprint != runs[0].ConfigHash)
            {
                _log.Warning("refused the ranks of node {0}: another configuration or data ({1}, this run is {2})", r.Node,
                    RunFingerprint.Parse(r.RunFingerprint).Short, RunFingerprint.Parse(runs[0].ConfigHash).Short);
                Sender.Tell(new RanksRefused($"node {r.Node} was started with another configuration or other data than the run it joined " +
                    $"(run {RunFingerprint.Parse(runs[0].ConfigHash)}, node {RunFingerprint.Parse(r.RunFingerprint)}); every node runs the same command on the same data"));
                return;
            }
            bool known = r.Ranks.All(x => _ranks.TryGetValue(x.Rank, out var had) && had == x) && _nodes.TryGetValue(r.Node, out var from) && from.Equals(Sender);
            foreach (var old in _ranks.Where(kv => kv.Value.Address.Node == r.Node && !r.Ranks.Any(n => n.Rank.Equals(kv.Key))).Select(kv => kv.Key).ToList())
            {
                Context.Unwatch(old);
                _ranks.Remove(old);
            }
            foreach (var rank in r.Ranks)
            {
                _ranks[rank.Rank] = rank;
                Context.Watch(rank.Rank);
            }
            _nodes[r.Node] = Sender;
            if (_awaiting.Remove(r.Node)) known = false; // what they hold now: the restarted supervisor waits for it
            if (!known) // a registration sent again (retried, or buffered twice by the singleton proxy) changes nothing
                _log.Info("node {0} registered {1} rank(s) ({2}); {3} rank(s) on {4} node(s)", r.Node, r.Ranks.Count,
                    string.Join(", ", r.Ranks.Select(x => x.Address.Device + (x.Live is { } l ? $" holding step {l.Step} of generation {l.Generation}" : ""))),
                    _ranks.Count, _ranks.Values.Select(x => x.Address.Node).Distinct().Count());
            Sender.Tell(new RanksRegistered());
            if (!known) Push();
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_supervisor) && !_reported && _overtaken)
            {
                _overtaken = false;
                Self.Tell(new RestartSupervisor(_run));
                return;
            }
            if (t.ActorRef.Equals(_supervisor) && !_reported && _outageSince is { } since)
            {
                var away = DateTime.UtcNow - since;
                if (away.TotalSeconds > _recovery.JournalOutageSeconds)
                {
                    _reported = true;
                    Self.Tell(new Outcome(_run, null, $"the run journal's database has been unreachable for {away.TotalSeconds:F0} s " +
                        $"(journal.outage-timeout-seconds = {_recovery.JournalOutageSeconds:F0}): {_outageCause}. Nothing committed is lost; rerun the same command to resume once it is back"));
                }
                else
                {
                    var wait = TimeSpan.FromSeconds(Math.Min(5, 0.5 * Math.Pow(2, Math.Min(4, _incarnation - 1))));
                    _log.Warning("the run journal's database is away ({0}); training goes on, commits are held; trying again in {1:F1} s", _outageCause, wait.TotalSeconds);
                    Timers.StartSingleTimer("restart-supervisor", new RestartSupervisor(_run), wait);
                }
                return;
            }
            if (t.ActorRef.Equals(_supervisor) && !_reported)
            {
                _reported = true;
                Self.Tell(new Outcome(_run, null, _supervisorFailure is { } failure
                    ? $"the phase supervisor failed: {TrainingFailure.Describe(failure)} — the journal is intact; rerun to resume"
                    : "the phase supervisor stopped without reporting an outcome; the journal is intact — rerun to resume"));
                return;
            }
            if (_ranks.Remove(t.ActorRef, out var gone))
            {
                if (_ended is null) _log.Warning("rank {0} left the cluster", gone.Address);
                if (!_ranks.Values.Any(r => r.Address.Node == gone.Address.Node)) _nodes.Remove(gone.Address.Node);
                Push();
            }
        });
        Receive<Outcome>(o => o.RunIndex == _run, o =>
        {
            var state = o.State ?? RunState.Empty;
            _outcomes.Add(new RunOutcome(o.RunIndex, o.Failure is null ? state.FinalCheckpoint()?.Path : null, o.Failure,
                state.Restarts.Select(x => $"{x.Component}: {x.Cause}").ToList(), state.Generations.Count));
            if (_supervisor is not null)
            {
                Context.Unwatch(_supervisor);
                Context.Stop(_supervisor);
            }
            _supervisor = null;
            if (o.Failure is null && _run + 1 < _runs.Count) StartRun(_run + 1);
            else End();
        });
        Receive<JournalOutage>(_ => Sender.Equals(_supervisor), o =>
        {
            _outageSince ??= DateTime.UtcNow;
            _outageCause = o.Cause;
        });
        // the journal is one history: what the other one wrote is read before this one decides anything again
        Receive<JournalOvertaken>(_ => Sender.Equals(_supervisor), o =>
        {
            _overtaken = true;
            _log.Warning("another coordinator of run {0} wrote its journal first ({1}); reading it again", _run + 1, o.Cause);
        });
        Receive<JournalAvailable>(_ => Sender.Equals(_supervisor), _ =>
        {
            if (_outageSince is { } since) _log.Info("the run journal is back after {0:F1} s", (DateTime.UtcNow - since).TotalSeconds);
            _outageSince = null;
        });
        Receive<RestartSupervisor>(r => r.RunIndex == _run && !_reported, _ =>
        {
            // its state is the journal's; the ranks' is theirs: have every node say again what it holds, then the roster
            _awaiting.UnionWith(_nodes.Keys);
            Broadcast(new RegisterAgain());
            Timers.StartSingleTimer("roster-settled", new RosterSettled(), TimeSpan.FromSeconds(10));
            StartRun(_run);
        });
        Receive<RosterSettled>(_ =>
        {
            _awaiting.Clear();
            Push();
        });
        // what the current run's supervisor tells: its outcome, and everything else for the nodes to show
        Receive<RunCompleted>(_ => Sender.Equals(_supervisor) && !_reported, c =>
        {
            _reported = true;
            Broadcast(new RunEvent(_run, c));
            var run = _run;
            _supervisor!.Ask<RunState>(GetRunState.Instance, TimeSpan.FromSeconds(30))
                .ContinueWith(t => new Outcome(run, t.IsCompletedSuccessfully ? t.Result : null, null), TaskContinuationOptions.ExecuteSynchronously)
                .PipeTo(Self);
        });
        Receive<RunFailed>(_ => Sender.Equals(_supervisor) && !_reported, f =>
        {
            _reported = true;
            Broadcast(new RunEvent(_run, f));
            var run = _run;
            _supervisor!.Ask<RunState>(GetRunState.Instance, TimeSpan.FromSeconds(5))
                .ContinueWith(t => new Outcome(run, t.IsCompletedSuccessfully ? t.Result : null, f.Reason), TaskContinuationOptions.ExecuteSynchronously)
                .PipeTo(Self);
        });
        Receive<IControlMessage>(_ => Sender.Equals(_supervisor), e => Broadcast(new RunEvent(_run, e)));
    }

    protected override void PreStart() => StartRun(0);

    void StartRun(int index)
    {
        _incarnation = index == _run ? _incarnation + 1 : 1;
        _run = index;
        _reported = false;
        _supervisorFailure = null;
        var settings = _runs[index];
        _supervisor = Context.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf(_runId, index), settings, Self, _recovery, _minNodes),
            _incarnation == 1 ? $"run-r{index}" : $"run-r{index}-{_incarnation}");
        Context.Watch(_supervisor);
        _supervisor.Tell(new StartRun(settings.ConfigHash, settings.Plan(), settings.Schedule(), settings.Averaging(), settings.FineModel.ToString()));
        Push();
    }

    void Push()
    {
        if (_awaiting.Count == 0) _supervisor?.Tell(new RankRoster(_ranks.Values.ToList()));
    }

    void End()
    {
        _ended = new ExperimentEnded(_outcomes.ToList());
        _log.Info("the experiment ended: {0}", string.Join("; ", _outcomes.Select(o => $"run {o.RunIndex + 1} {(o.Failure is null ? "completed" : "failed")}")));
        Broadcast(_ended);
    }

    void Broadcast(IControlMessage message)
    {
        foreach (var node in _nodes.Values) node.Tell(message);
    }

    // A supervisor that fails (a bug in it) is stopped, not restarted: a restarted one would wait for a StartRun nobody
    // sends again. The run's outcome then is that failure; its journal is intact, and rerunning `train` resumes.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _supervisorFailure = ex;
        return Directive.Stop;
    });

    public static Props Props(IReadOnlyList<RunSettings> runs, string runId, int minNodes, RecoverySettings recovery) =>
        Akka.Actor.Props.Create(() => new RunCoordinator(runs, runId, minNodes, recovery));
}
