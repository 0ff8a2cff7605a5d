using Akka.Actor;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>What changed in a <see cref="GenerationRoster"/>; the supervisor tells the ranks what an event asks of them.</summary>
public abstract record RosterEvent
{
    /// <summary>The ranks the coordinator knows now.</summary>
    public sealed record RanksRegistered(IReadOnlyList<RankRegistration> Ranks) : RosterEvent;

    /// <summary>A rank registered; <paramref name="Busy"/>: it trains a generation of an earlier supervisor.</summary>
    public sealed record RankArrived(RankRegistration Registration, bool Busy) : RosterEvent;

    /// <summary>Tell <paramref name="Rank"/> to pause the generation it trains.</summary>
    public sealed record PauseAsked(IActorRef Rank, int RunIndex, int Generation) : RosterEvent;

    /// <summary>The last journaled generation is taken on as it is: tell each member.</summary>
    public sealed record GenerationAdopted(GenerationMembers Members) : RosterEvent;

    public sealed record RankGone(IActorRef Rank) : RosterEvent;

    public sealed record MemberLost(int Index) : RosterEvent;

    /// <summary>Tell the members to stop: keeping their state (the next generation goes on from it), or dropping it.</summary>
    public sealed record GenerationAborted(bool KeepState) : RosterEvent;

    /// <summary><paramref name="Joining"/> ranks wait to join: tell the members to stop after the same step.</summary>
    public sealed record GenerationPaused(int Joining) : RosterEvent;

    /// <summary>A rank stopped generation <paramref name="Generation"/> holding <paramref name="State"/>; <paramref name="WasBusy"/>:
    /// it was an earlier supervisor's.</summary>
    public sealed record RankStoppedHolding(IActorRef Rank, LiveState? State, bool WasBusy, int Generation) : RosterEvent;

    public sealed record MemberStopped(int Index, RankStopReason Reason, string Detail) : RosterEvent;

    /// <summary>A generation is being formed from these ranks (claimed before it is journaled: the roster may change meanwhile).</summary>
    public sealed record GenerationClaimed(GenerationMembers Members) : RosterEvent;

    /// <summary>The claimed generation is journaled; no rank trains anything else now.</summary>
    public sealed record GenerationStarted : RosterEvent;

    public sealed record StatesDropped : RosterEvent;
}
