using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Runtime;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

// Over 350 lines: one actor's protocol with the supervisor, the batcher, the torch thread and the ring.
/// <summary>
/// A rank: a trainer bound to one device of its node, one of a data-parallel group that trains one model. It holds
/// a full replica (<see cref="TrainingSession"/>, on its own <see cref="TorchThread"/>), reads only its part of each
/// global batch through its own pipeline, and sums gradients with the other members over the data plane — its
/// <see cref="RankEndpoint"/> and the ring's TCP links, never Akka. Akka carries only control: the phase supervisor's
/// <see cref="JoinGeneration"/>, <see cref="PauseGeneration"/>, <see cref="AbortGeneration"/> and evaluation orders in,
/// progress, commits, replica hashes, stops and faults out.
/// <para>Between generations it keeps what it holds: a survivor of a lost node re-joins the next ring with its
/// weights and optimiser state in memory; a rank that joins fetches them from a member
/// (<see cref="StateTransfer"/>), served here while this rank is forming a generation it is the source of.</para>
/// </summary>
public sealed class Rank : ReceiveActor
{
    public const int Prefetch = 2;

    /// <summary>Node → rank (local): what do you hold? Answered with a <see cref="RankRegistration"/>.</summary>
    public sealed record GetRegistration;

    sealed record Begun(int Generation, TrainingSession.Ready Ready, RingAllReduce? Ring, string From, string? Pretrained);
    sealed record BeginFailed(int Generation, Exception Cause);
    sealed record Stepped(int Generation, TrainingSession.StepDone Done);
    sealed record StepFailed(int Generation, Exception Cause);
    sealed record EpochEnded(int Generation, TrainingSession.EpochDone Done);

    /// <summary>A session another rank may fetch while a generation is being formed.</summary>
    sealed record Servable(long Generation, TrainingSession Session);

    /// <summary>The torch thread and the session it holds; <see cref="Session"/> is touched on that thread only, so a
    /// generation formed after another always finds what the one before left.</summary>
    sealed class Replica(TorchThread thread)
    {
        public TorchThread Thread { get; } = thread;
        public TrainingSession? Session { get; set; }

        public Task<T> Run<T>(Func<Replica, T> work) => Thread.Run(() => work(this));

        public void Drop() => Thread.Run(() => { Session?.Dispose(); Session = null; return 0; });
    }

    /// <summary>How long a rank waits for a neighbour in a step's all-reduce before the step fails.</summary>
    public static readonly TimeSpan RingTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long forming a ring may take (the members may be loading a checkpoint or fetching a state).</summary>
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(180);

    readonly IReadOnlyList<RunSettings> _runs; // by run index, each with this rank's device
    readonly RankAddress _address;
    readonly RankEndpoint _endpoint;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly Dictionary<int, IActorRef> _evaluators = new();
    readonly Dictionary<int, IActorRef> _probers = new();
    Replica _replica;
    volatile Servable? _servable;
    Exception? _childFailure;
    JoinGeneration? _join;
    IActorRef _supervisor = ActorRefs.Nobody;
    CancellationTokenSource? _forming;
    RingAllReduce? _ring;
    IActorRef? _batcher;
    bool _stepInFlight; // a step (or epoch end) is on the torch thread
    int _phaseEpochs; // the current phase's epochs as this rank was told (JoinGeneration, then ExtendPhase)
    readonly Queue<IPipelineMessage> _waiting = new(); // batches (and the epoch's end) ready for the torch thread
    (RankStopReason Reason, string Detail)? _stoppedAs; // why it last stopped its generation, told again to a supervisor that takes it on
    readonly List<CheckpointCommitted> _unacknowledged = []; // member 0's commits the supervisor has not confirmed, in order
    int _epoch;
    readonly Stopwatch _rateClock = new();
    long _rateSteps;

    /// <param name="ringKey">The run's data-plane key (<see cref="RunSecret.RingKey"/>): peers without it are turned away.</param>
    public Rank(IReadOnlyList<RunSettings> runs, string node, int localRank, string bindHost, byte[] ringKey)
    {
        _runs = runs;
        _replica = new Replica(NewThread(localRank));
        var log = _log;
        _endpoint = RankEndpoint.Open(new IPEndPoint(IPAddress.Parse(bindHost), 0), ringKey, ServeState, refused: why => log.Warning("rank {0}: {1}", localRank, why));
        _address = new RankAddress(node, localRank, runs[0].RankDevice.Name, $"{bindHost}:{_endpoint.Address.Port}");
        _log.Info("rank {0} ({1}) takes ring links and state requests at {2}", localRank, _address.Device, _address.Endpoint);

        Idle();
    }

    /// <summary>No generation to train: a new rank, or one that stopped, failed or was aborted (it keeps what it holds).</summary>
    void Idle()
    {
        Become(() =>
        {
            Receive<PauseGeneration>(p => { _supervisor = Sender; Report(RankStopReason.Paused, "not training", p.Generation); });
            Common(running: false, stopped: true);
        });
    }

    /// <summary>Forming the generation it was told to join: its start state, then the ring. <paramref name="pauseAsked"/>:
    /// a pause came meanwhile, and rides in the first step.</summary>
    void Forming(bool pauseAsked)
    {
        Become(() =>
        {
            Receive<Begun>(b => b.Generation == _join?.Generation, b => Begin(b, pauseAsked));
            Receive<BeginFailed>(f => f.Generation == _join?.Generation, f =>
            {
                _forming = null;
                _servable = null;
                Idle();
                var cause = TrainingFailure.Unwrap(f.Cause);
                if (cause is RingBrokenException)
                {
                    _log.Warning("generation {0}: the ring did not form: {1}", f.Generation, cause.Message);
                    Report(RankStopReason.RingBroken, cause.Message);
                    return;
                }
                _replica.Drop();
                _log.Error("generation {0}: could not start: {1}", f.Generation, cause.Message);
                _supervisor.Tell(WithGeneration(TrainingFailure.Report("trainer", cause), f.Generation));
            });
            Receive<PauseGeneration>(p => Current(p.RunIndex, p.Generation), _ => { _supervisor = Sender; Forming(pauseAsked: true); });
            Receive<PauseGeneration>(p => { _supervisor = Sender; Report(RankStopReason.Paused, "not training", p.Generation); });
            Common(running: false, stopped: false);
        });
    }

    /// <summary>Training its generation, one step (or epoch end) at a time on the torch thread. <paramref name="pausing"/>:
    /// a pause was asked; it rides in the next step's all-reduce, so every member stops after the same step.</summary>
    void Training(bool pausing)
    {
        Become(() =>
        {
            Receive<IPipelineMessage>(m => m is TrainingBatch or EpochDrained && Sender.Equals(_batcher), ready =>
            {
                _waiting.Enqueue(ready);
                Next(pausing);
            });
            Receive<Stepped>(s => s.Generation == _join?.Generation, s =>
            {
                _stepInFlight = false;
                var done = s.Done;
                _batcher!.Tell(new RequestBatches(1));
                _rateSteps++;
                if (_join!.Index == 0)
                {
                    var rate = _rateSteps / Math.Max(1e-9, _rateClock.Elapsed.TotalSeconds);
                    _supervisor.Tell(new TrainingProgress(_join.Phase.Index, Settings.Curriculum.Count, _epoch, _phaseEpochs, done.Step,
                        done.Position, Settings.TrainEntries.Count, done.Loss, rate, done.Lr, done.GradNorm));
                    if (done.Checkpoint is { } c) Commit(c);
                }
                if (done.ParameterHash is { } hash) _supervisor.Tell(new ReplicaHash(_join.RunIndex, s.Generation, _join.Index, done.Step, false, hash));
                if (done.Paused) StopTraining(RankStopReason.Paused, $"after step {done.Step}, position {done.Position}");
                else Next(pausing);
            });
            Receive<StepFailed>(f => f.Generation == _join?.Generation, f =>
            {
                _stepInFlight = false;
                var cause = TrainingFailure.Unwrap(f.Cause);
                if (cause is RingBrokenException)
                {
                    _log.Warning("generation {0}: {1}", f.Generation, cause.Message);
                    StopTraining(RankStopReason.RingBroken, cause.Message);
                    return;
                }
                if (cause is OperationCanceledException) return;
                _log.Error("training failed: {0}", cause.Message);
                Leave();
                Idle();
                _supervisor.Tell(WithGeneration(TrainingFailure.Report("trainer", cause), f.Generation));
                _replica.Drop();
            });
            Receive<EpochEnded>(e => e.Generation == _join?.Generation, e =>
            {
                _stepInFlight = false;
                var done = e.Done;
                if (_join!.Index == 0) Commit(done.Checkpoint!);
                if (done.ParameterHash is { } hash) _supervisor.Tell(new ReplicaHash(_join.RunIndex, e.Generation, _join.Index, done.Step, true, hash));
                if (done.PhaseDone) StopTraining(RankStopReason.PhaseTrained, "");
                else
                {
                    _epoch++;
                    _batcher!.Tell(new StartEpoch(_epoch, 0));
                    Next(pausing);
                }
            });
            Receive<PauseGeneration>(p => Current(p.RunIndex, p.Generation), _ => { _supervisor = Sender; if (!pausing) Training(pausing: true); });
            Receive<PauseGeneration>(p => { _supervisor = Sender; Report(RankStopReason.Paused, "not training", p.Generation); });
            Receive<Terminated>(t => t.ActorRef.Equals(_batcher), _ =>
            {
                // a pipeline stage failed past its ClipGuard and lost work the batch order waits for: a fault
                var generation = _join!.Generation;
                var cause = _childFailure ?? new InvalidOperationException("the training pipeline stopped");
                Leave();
                Idle();
                _supervisor.Tell(WithGeneration(TrainingFailure.Report("pipeline", cause, TrainingFailure.IsPermanent(cause) ? "" : $"{cause.GetType().Name}: "), generation));
            });
            Common(running: true, stopped: false);
        });
    }

    /// <summary>What a rank answers in every state. <paramref name="running"/>: it trains a generation (registration says so);
    /// <paramref name="stopped"/>: it stopped its generation (a supervisor that takes it on hears so again).</summary>
    void Common(bool running, bool stopped)
    {
        Receive<GetRegistration>(_ =>
        {
            var (replyTo, self, address) = (Sender, Self, _address);
            _replica.Run(r => r.Session?.Live(running)).ContinueWith(t =>
                replyTo.Tell(new RankRegistration(self, address, t.IsCompletedSuccessfully ? t.Result : null)), TaskContinuationOptions.ExecuteSynchronously);
        });
        Receive<JoinGeneration>(Join);
        Receive<Begun>(b => b.Ring?.Dispose()); // replaced or aborted while it formed: the state stays, not the ring
        Receive<BeginFailed>(_ => { });           // replaced or aborted meanwhile, and reported then
        // of a generation replaced or left: the torch thread is free again (block bodies: an expression would make these
        // Func<T, bool> handlers that report the message unhandled)
        Receive<Stepped>(_ => { _stepInFlight = false; });
        Receive<StepFailed>(_ => { _stepInFlight = false; });
        Receive<EpochEnded>(_ => { _stepInFlight = false; });
        Receive<ExtendPhase>(e =>
        {
            // the next step's all-reduce carries it, so every member ends the epoch the same way
            if (Current(e.RunIndex, e.Generation) && _join!.Phase.Index == e.Phase) _phaseEpochs = Math.Max(_phaseEpochs, e.Epochs);
        });
        Receive<AbortGeneration>(a =>
        {
            _supervisor = Sender;
            if (!Current(a.RunIndex, a.Generation)) return;
            Leave(); // a step in the all-reduce fails at once; forming is called off
            Idle();
            if (!a.KeepState) _replica.Drop();
            if (!stopped) Report(RankStopReason.RingBroken, "aborted: a member is gone");
        });
        Receive<NodeLeftCluster>(n =>
        {
            if (stopped || _join is not { } j || !j.Members.Any(m => m.Node == n.Node)) return;
            _log.Warning("generation {0}: the cluster removed {1}, a member's node; leaving the generation", j.Generation, n.Node);
            Leave();
            Idle();
            Report(RankStopReason.RingBroken, $"the cluster removed {n.Node}, a member's node");
        });
        Receive<Terminated>(t =>
        {
            foreach (var (run, evaluator) in _evaluators.Where(e => e.Value.Equals(t.ActorRef)).ToList()) _evaluators.Remove(run);
            foreach (var (run, prober) in _probers.Where(e => e.Value.Equals(t.ActorRef)).ToList()) _probers.Remove(run);
        });
        Receive<CommitAcknowledged>(a =>
        {
            int i = _unacknowledged.FindIndex(c => c.Path == a.Path);
            if (i >= 0) _unacknowledged.RemoveRange(0, i + 1); // commits are confirmed in order
        });
        Receive<AdoptGeneration>(a =>
        {
            if (!Current(a.RunIndex, a.Generation)) return;
            _supervisor = Sender; // a supervisor that started over took this generation on: answer to it, and tell it what it missed
            _log.Info("generation {0}: taken on by a new supervisor; sending {1} commit(s) again", a.Generation, _unacknowledged.Count);
            foreach (var c in _unacknowledged) _supervisor.Tell(new CommitCheckpoint(c, a.Generation));
            // stopped before the new supervisor came: say so again, after the commits, so it forms the next generation
            // from a journal that holds them (one sender's messages arrive in order)
            if (stopped) Report(_stoppedAs?.Reason ?? RankStopReason.Paused, _stoppedAs?.Detail ?? "");
        });
        Receive<ProbeNextPhase>(order =>
        {
            if (!_probers.TryGetValue(order.RunIndex, out var prober))
            {
                _probers[order.RunIndex] = prober = Context.ActorOf(Prober.Props(_runs[order.RunIndex]), $"prober-r{order.RunIndex}-{Guid.NewGuid():N}");
                Context.Watch(prober);
            }
            prober.Forward(order);
        });
        Receive<EvaluateShard>(order =>
        {
            if (!_evaluators.TryGetValue(order.RunIndex, out var evaluator))
            {
                _evaluators[order.RunIndex] = evaluator = Context.ActorOf(Evaluator.Props(_runs[order.RunIndex]), $"evaluator-r{order.RunIndex}-{Guid.NewGuid():N}");
                Context.Watch(evaluator);
            }
            evaluator.Forward(order);
        });
    }

    bool Current(int runIndex, int generation) => _join is { } j && j.RunIndex == runIndex && j.Generation == generation;

    RunSettings Settings => _runs[_join!.RunIndex];

    TorchThread NewThread(int localRank) => new($"rank{localRank}-{_runs[0].RankDevice}");

    /// <summary>Member 0's commit of a checkpoint it wrote, held until the supervisor confirms it (a journal outage loses none).</summary>
    void Commit(CheckpointCommitted checkpoint)
    {
        _unacknowledged.Add(checkpoint);
        _supervisor.Tell(new CommitCheckpoint(checkpoint, _join!.Generation));
    }

    /// <summary>Gives the torch thread the next batch (or the epoch's end) once it finished the last.</summary>
    void Next(bool pause)
    {
        if (_stepInFlight || _waiting.Count == 0) return;
        var generation = _join!.Generation;
        _stepInFlight = true;
        switch (_waiting.Dequeue())
        {
            case TrainingBatch batch:
                int phaseEpochs = _phaseEpochs;
                _replica.Run(r => r.Session!.Step(batch, pause, phaseEpochs)).ContinueWith(t => t.IsCompletedSuccessfully
                    ? (object)new Stepped(generation, t.Result)
                    : new StepFailed(generation, t.Exception ?? (Exception)new OperationCanceledException("the step was dropped")),
                    TaskContinuationOptions.ExecuteSynchronously).PipeTo(Self);
                break;
            case EpochDrained drained:
                _replica.Run(r => r.Session!.EndEpoch(drained)).ContinueWith(t => t.IsCompletedSuccessfully
                    ? (object)new EpochEnded(generation, t.Result)
                    : new StepFailed(generation, t.Exception ?? (Exception)new OperationCanceledException("dropped")),
                    TaskContinuationOptions.ExecuteSynchronously).PipeTo(Self);
                break;
        }
    }

    void Join(JoinGeneration j)
    {
        _supervisor = Sender;
        Leave();
        if (_stepInFlight && j.Start.Live is null)
        {
            // a step still running (or hung in a native call) must not hold up a restart from the journal: leave the
            // thread to finish it and drop its session, and go on with a new one
            var old = _replica;
            old.Thread.Abandon(() => old.Session?.Dispose());
            _replica = new Replica(NewThread(_address.LocalRank));
            _stepInFlight = false;
        }
        _join = j;
        _phaseEpochs = j.Phase.Epochs;
        _unacknowledged.Clear(); // a new generation starts from what the supervisor has
        _stoppedAs = null;
        var settings = _runs[j.RunIndex];
        var cancel = (_forming = new CancellationTokenSource()).Token;
        var endpoint = _endpoint;
        var self = Self;
        _replica.Run(r => Form(settings, r, endpoint, j, cancel)).ContinueWith(t => t.IsCompletedSuccessfully
            ? t.Result
            : new BeginFailed(j.Generation, t.Exception ?? (Exception)new OperationCanceledException("dropped")),
            TaskContinuationOptions.ExecuteSynchronously).PipeTo(self);
        Forming(pauseAsked: false);
    }

    /// <summary>
    /// On the torch thread: the session this generation starts from — kept (this rank holds the state it continues
    /// from), fetched from the source member, or built from the journal's start — then the ring.
    /// </summary>
    object Form(RunSettings settings, Replica replica, RankEndpoint endpoint, JoinGeneration j, CancellationToken cancel)
    {
        int world = j.Members.Count;
        var alone = new RankRole(j.Index, world, null);
        var held = replica.Session;
        string from;
        string? pretrained = null; // a fresh first phase's model.init, said once: a kept session does not say it again
        try
        {
            if (j.Start.Live is { } live)
            {
                if (held is not null && Matches(held.Live(false), live)) from = "kept in memory";
                else
                {
                    if (j.Start.SourceIndex == j.Index) throw new InvalidOperationException($"generation {j.Generation}: this rank is the source but does not hold that state");
                    replica.Session = null;
                    held?.Dispose();
                    var source = j.Members[j.Start.SourceIndex];
                    var file = Path.Combine(Path.GetTempPath(), $"actortraining-state-{Environment.ProcessId}-{_address.LocalRank}-g{j.Generation}.ckpt");
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        long bytes = StateTransfer.Fetch(ParseEndpoint(source.Endpoint), j.Generation, j.Index, world, endpoint.Key, file, RingTimeout, cancel);
                        (replica.Session, _) = TrainingSession.BeginFromState(settings, replica.Thread, j.Phase, file, live, j.Generation, alone);
                        from = $"fetched from {source} ({bytes / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F2} s)";
                    }
                    finally { File.Delete(file); }
                }
            }
            else
            {
                replica.Session = null;
                held?.Dispose();
                (replica.Session, _) = TrainingSession.Begin(settings, replica.Thread, j.Phase, j.Start, j.Generation, alone);
                from = j.Start.Kind;
                pretrained = replica.Session.Origin;
            }
            var session = replica.Session!;
            _servable = new Servable(j.Generation, session); // members that fetch their state may now take it
            RingAllReduce? ring = null;
            if (world > 1)
            {
                var right = ParseEndpoint(j.Members[(j.Index + 1) % world].Endpoint);
                ring = new RingAllReduce(RingLinks.Join(j.Index, world, j.Generation, endpoint, right, RingTimeout, JoinTimeout, cancel));
            }
            var ready = session.Rejoin(j.Generation, new RankRole(j.Index, world, ring), j.Phase.Epochs);
            return new Begun(j.Generation, ready, ring, from, pretrained);
        }
        catch (Exception e)
        {
            return new BeginFailed(j.Generation, e);
        }
    }

    static bool Matches(LiveState mine, LiveState wanted) =>
        (mine.RunIndex, mine.Phase, mine.Epoch, mine.Position, mine.Step, mine.ParameterHash) ==
        (wanted.RunIndex, wanted.Phase, wanted.Epoch, wanted.Position, wanted.Step, wanted.ParameterHash);

    static IPEndPoint ParseEndpoint(string endpoint) => IPEndPoint.Parse(endpoint);

    void Begin(Begun b, bool pause)
    {
        _forming = null;
        _servable = null;
        _ring = b.Ring;
        Training(pausing: pause);
        _epoch = b.Ready.Epoch;
        var j = _join;
        var settings = Settings;
        var share = settings.TrainShare(j.Index, j.Members.Count);
        _batcher = Context.ActorOf(Batcher.Props(settings.Pipeline(j.Phase, training: true, share), Self), $"pipeline-g{j.Generation}");
        Context.Watch(_batcher);
        _batcher.Tell(new StartEpoch(b.Ready.Epoch, b.Ready.Position));
        _batcher.Tell(new RequestBatches(Prefetch));
        _rateClock.Restart();
        _rateSteps = 0;
        _log.Info($"generation {j.Generation}: member {j.Index} of {j.Members.Count}, phase {j.Phase.Index} epoch {b.Ready.Epoch} " +
            $"from position {b.Ready.Position}, step {b.Ready.Step} ({b.From})");
        _supervisor.Tell(new GenerationReady(j.RunIndex, j.Generation, j.Index, b.From, b.Pretrained));
    }

    /// <summary>Stops taking part in the current generation: pipeline, forming, ring. What it holds stays.</summary>
    void Leave()
    {
        _waiting.Clear();
        _forming?.Cancel();
        _forming = null;
        _servable = null;
        if (_batcher is not null)
        {
            Context.Unwatch(_batcher);
            Context.Stop(_batcher);
        }
        _batcher = null;
        _ring?.Dispose(); // a step waiting in the all-reduce fails at once
        _ring = null;
    }

    void StopTraining(RankStopReason reason, string detail)
    {
        Leave();
        Idle();
        Report(reason, detail);
    }

    /// <summary>Tells the supervisor this rank stopped, with the state it holds (read on the torch thread, after any step in flight).</summary>
    void Report(RankStopReason reason, string detail, int? generation = null)
    {
        if (generation is null) _stoppedAs = (reason, detail);
        var (to, self) = (_supervisor, Self);
        var (run, gen, index) = (_join?.RunIndex ?? -1, generation ?? _join?.Generation ?? -1, _join?.Index ?? -1);
        _replica.Run(r => r.Session?.Live(false)).ContinueWith(t =>
            to.Tell(new RankStopped(run, gen, index, reason, t.IsCompletedSuccessfully ? t.Result : null, detail), self), TaskContinuationOptions.ExecuteSynchronously);
    }

    static IControlMessage WithGeneration(IControlMessage report, int generation) =>
        report is TrainingFaulted f ? f with { Generation = generation } : report;

    /// <summary>
    /// On the endpoint's thread: a joining member asks for this rank's state for the generation being formed. Its
    /// request may come before this rank has its own part ready (both form at once): it waits for that, a while.
    /// </summary>
    void ServeState(RankEndpoint.Hello hello, System.Net.Sockets.Socket socket)
    {
        var deadline = DateTime.UtcNow + RingTimeout;
        var servable = _servable;
        while ((servable is null || servable.Generation < hello.Generation) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
            servable = _servable;
        }
        Action<Stream>? write = servable is not null && servable.Generation == hello.Generation ? servable.Session.WriteState : null;
        try { StateTransfer.Serve(socket, write, RingTimeout); }
        catch (Exception e) { _log.Warning("serving the training state to {0} failed: {1}", socket.RemoteEndPoint, e.Message); }
    }

    protected override void PostStop()
    {
        _forming?.Cancel();
        _ring?.Dispose();
        _endpoint.Dispose();
        var replica = _replica;
        replica.Thread.Abandon(() => replica.Session?.Dispose());
    }

    // A child that fails is stopped: the training pipeline's batcher (a stage failed past its ClipGuard and lost a
    // message the batch order waits for) or an evaluator; the Terminated above turns the first into a fault.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _childFailure = TrainingFailure.Unwrap(ex);
        return Directive.Stop;
    });

    public static Props Props(IReadOnlyList<RunSettings> runs, string node, int localRank, string bindHost, byte[] ringKey) =>
        Akka.Actor.Props.Create(() => new Rank(runs, node, localRank, bindHost, ringKey));
}
