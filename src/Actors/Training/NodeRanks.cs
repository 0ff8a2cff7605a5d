using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// A node's ranks: one <see cref="Rank"/> per device of <c>training.devices</c>, each with its data-plane endpoint
/// bound to the node's address. Registers them with the run's coordinator (through the singleton proxy) — again, with
/// the states they hold, whenever the coordinator changed (its node was lost and it started elsewhere), and until it
/// answers. Passes what the coordinator tells the nodes (<see cref="RunEvent"/>, <see cref="ExperimentEnded"/>,
/// <see cref="RanksRefused"/>) to this node's <paramref name="listener"/>, and answers whether it is registered (<see cref="GetReadiness"/>).
/// </summary>
public sealed class NodeRanks : ReceiveActor, IWithTimers
{
    sealed record Register;

    /// <summary>How often an unanswered registration is sent again.</summary>
    static readonly TimeSpan Retry = TimeSpan.FromSeconds(5);

    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly IReadOnlyList<IActorRef> _ranks;
    IActorRef? _coordinator;
    bool _asking;
    bool _ended; // the experiment ended: the coordinator going away is the cluster shutting down

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="runsByRank">For each local rank (device), the settings of every run of the experiment on that device.</param>
    public NodeRanks(string node, IReadOnlyList<IReadOnlyList<RunSettings>> runsByRank, string bindHost, byte[] ringKey, string fingerprint,
        IActorRef coordinatorProxy, IActorRef listener)
    {
        _ranks = runsByRank.Select((runs, i) => Context.ActorOf(Rank.Props(runs, node, i, bindHost, ringKey), $"rank-{i}")).ToList();

        Receive<Register>(_ =>
        {
            if (_asking || _ended) return;
            _asking = true;
            var self = Self;
            // a rank whose thread is stuck cannot say what it holds: it is left out until it can
            Task.WhenAll(_ranks.Select(r => r.Ask<RankRegistration>(new Rank.GetRegistration(), TimeSpan.FromSeconds(20))
                    .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskContinuationOptions.ExecuteSynchronously)))
                .ContinueWith(t => new RegisterRanks(node, fingerprint, t.Result.OfType<RankRegistration>().ToList()), TaskContinuationOptions.ExecuteSynchronously)
                .PipeTo(self);
        });
        Receive<RegisterRanks>(r =>
        {
            _asking = false;
            if (r.Ranks.Count > 0) coordinatorProxy.Tell(r);
            Timers.StartSingleTimer("register", new Register(), Retry); // until it answers
        });
        Receive<RanksRegistered>(_ =>
        {
            Timers.Cancel("register");
            if (Sender.Equals(_coordinator)) return;
            if (_coordinator is not null) Context.Unwatch(_coordinator);
            _coordinator = Sender;
            Context.Watch(_coordinator);
            _log.Info("ranks of node {0} registered with the coordinator at {1}", node, Sender.Path.Address);
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_coordinator) && !_ended, _ =>
        {
            _log.Warning("the run's coordinator is gone (its node was lost); registering with its successor");
            _coordinator = null;
            Self.Tell(new Register());
        });
        Receive<Terminated>(_ => { }); // the coordinator of an ended experiment, going with the cluster
        Receive<RegisterAgain>(_ => Self.Tell(new Register()));
        Receive<RanksRefused>(r =>
        {
            _ended = true;
            Timers.Cancel("register");
            listener.Tell(r);
        });
        Receive<GetReadiness>(_ => Sender.Tell(_ended ? new Readiness(false, "ended")
            : _coordinator is null ? new Readiness(false, "registering") : new Readiness(true, "registered")));
        // a node the cluster gave up on is gone for the data plane at once: a rank waiting on it would wait for the ring's
        // timeout. Not this node itself: it is leaving, and its ranks go with it without telling a coordinator anything.
        Receive<ClusterEvent.MemberDowned>(m => LeftCluster(m.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(m => LeftCluster(m.Member.Address));
        Receive<RunEvent>(listener.Forward);
        Receive<ExperimentEnded>(e =>
        {
            _ended = true;
            Timers.Cancel("register");
            listener.Forward(e);
        });
    }

    protected override void PreStart()
    {
        Self.Tell(new Register());
        if (InCluster) Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberDowned), typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop()
    {
        if (InCluster) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    bool InCluster => ((ExtendedActorSystem)Context.System).Provider is IClusterActorRefProvider;

    void LeftCluster(Address node)
    {
        if (node.Equals(Cluster.Get(Context.System).SelfAddress)) return;
        foreach (var rank in _ranks) rank.Tell(new NodeLeftCluster($"{node.Host}:{node.Port}"));
    }

    public static Props Props(string node, IReadOnlyList<IReadOnlyList<RunSettings>> runsByRank, string bindHost, byte[] ringKey, string fingerprint,
        IActorRef coordinatorProxy, IActorRef listener) =>
        Akka.Actor.Props.Create(() => new NodeRanks(node, runsByRank, bindHost, ringKey, fingerprint, coordinatorProxy, listener));
}
