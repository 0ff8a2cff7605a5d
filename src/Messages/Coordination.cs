using Akka.Actor;

namespace ActorTraining.Messages;

// Nodes, the run's coordinator (a cluster singleton), its supervisors and the listeners: registration, the run's events and its end.

/// <summary>
/// A small control message (phase orders, checkpoint commits, metrics, progress). Small enough to cross nodes:
/// weights travel as a checkpoint path + SHA-256, never inline.
/// </summary>
public interface IControlMessage;

/// <summary>
/// Node → run coordinator (through the singleton proxy): the node's ranks are ready to train the run whose identity
/// is <paramref name="RunFingerprint"/> (configuration and data; a node of another run is refused). Sent again, with
/// the states the ranks hold, whenever the coordinator changed (its node was lost).
/// </summary>
public sealed record RegisterRanks(string Node, string RunFingerprint, IReadOnlyList<RankRegistration> Ranks) : IControlMessage;

/// <summary>Coordinator → node: registered. The sender is the coordinator to watch: a new one needs registering again.</summary>
public sealed record RanksRegistered : IControlMessage;

/// <summary>Coordinator → node: this node's ranks cannot take part (another configuration or data); the node stops with this reason.</summary>
public sealed record RanksRefused(string Reason) : IControlMessage;

/// <summary>Run coordinator → every node: register your ranks again with the state they hold now (a supervisor started over and needs to know).</summary>
public sealed record RegisterAgain : IControlMessage;

/// <summary>Management endpoint → the node's ranks (local): are they registered with the run's coordinator?</summary>
public sealed record GetReadiness;

/// <summary>The answer to <see cref="GetReadiness"/>. <paramref name="State"/>: <c>registered</c>, <c>registering</c>
/// (no coordinator has acknowledged them yet, or a new one is being found) or <c>ended</c> (the experiment is over).</summary>
public sealed record Readiness(bool Ready, string State);

/// <summary>One rank of a node: its actor, where it is, and the training state it holds (null: none).</summary>
public sealed record RankRegistration(IActorRef Rank, RankAddress Address, LiveState? Live);

/// <summary>
/// Where a rank is: its node (the Akka address host:port), its index among the node's devices, the device, and its
/// data-plane endpoint (host:port of its <c>RankEndpoint</c>, where ring links and state requests go).
/// </summary>
public sealed record RankAddress(string Node, int LocalRank, string Device, string Endpoint)
{
    public override string ToString() => $"{Node}/{LocalRank} ({Device})";
}

/// <summary>Coordinator → supervisor: every rank that can take part now, with the state each said it holds when it registered.</summary>
public sealed record RankRoster(IReadOnlyList<RankRegistration> Ranks);

/// <summary>Supervisor → coordinator, as it stops: the journal's database cannot be reached (<paramref name="Cause"/>); start me again later.</summary>
public sealed record JournalOutage(string Cause);

/// <summary>
/// Supervisor → coordinator, as it stops: another supervisor of the same run wrote the journal's next event first
/// (<paramref name="Cause"/>) — a coordinator cut off from the cluster that still acted. Read the journal again.
/// </summary>
public sealed record JournalOvertaken(string Cause);

/// <summary>Supervisor → coordinator: the journal was read; it is there.</summary>
public sealed record JournalAvailable;

/// <summary>Host → supervisor: run (or resume) the curriculum of the configuration with hash <paramref name="ConfigHash"/>.
/// <paramref name="Schedule"/>: null = each phase trains its planned epochs. <paramref name="Averaging"/>: null = no weight averaging.
/// <paramref name="Model"/>: the model trained, as people read it (e.g. "HTS-AT (embed 96, depths 2/2/6/2, …)").</summary>
public sealed record StartRun(string ConfigHash, IReadOnlyList<PhasePlan> Phases, AdaptiveSchedule? Schedule = null, WeightAveraging? Averaging = null,
    string? Model = null) : IControlMessage;

/// <summary>Ask the phase supervisor (or a journal reader) for its current run state.</summary>
public sealed record GetRunState : IControlMessage
{
    public static readonly GetRunState Instance = new();
}

/// <summary>Coordinator → every node: what happened in run <paramref name="RunIndex"/> of the experiment (progress, phases, epochs, generations, restarts).</summary>
public sealed record RunEvent(int RunIndex, IControlMessage Event) : IControlMessage;

/// <summary>The run stopped on an error the user must fix (bad config, bad data, corrupt checkpoint, full disk).</summary>
public sealed record RunFailed(string Reason) : IControlMessage;

/// <summary>
/// How run <paramref name="RunIndex"/> of the experiment ended: its final checkpoint, or the reason it failed; the
/// restarts after faults (component: cause) and how many generations of ranks trained it.
/// </summary>
public sealed record RunOutcome(int RunIndex, string? FinalCheckpoint, string? Failure, IReadOnlyList<string> Restarts, int Generations);

/// <summary>Coordinator → every node: the experiment's runs ended (the last one failed, or all completed); the nodes may go.</summary>
public sealed record ExperimentEnded(IReadOnlyList<RunOutcome> Runs) : IControlMessage;
