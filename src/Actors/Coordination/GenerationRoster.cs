using System.Collections.Immutable;
using Akka.Actor;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// The ranks a run's supervisor can train with and the generation they form: who registered holding what, who is
/// still training a generation of an earlier supervisor, who was lost, stopped or asked to pause. Pure, as
/// <see cref="RunState"/>: <c>Process</c> turns what happened into <see cref="RosterEvent"/>s, <see cref="Apply"/>
/// folds one in, and the supervisor tells the ranks what each event says. Not journaled: a supervisor that starts
/// over learns it again from the ranks' registrations.
/// </summary>
public sealed record GenerationRoster(int RunIndex)
{
    public IReadOnlyList<RankRegistration> Ranks { get; init; } = [];
    /// <summary>The state each rank last said it holds.</summary>
    public ImmutableDictionary<IActorRef, LiveState?> Held { get; init; } = ImmutableDictionary<IActorRef, LiveState?>.Empty;
    /// <summary>Ranks training a generation that is not ours (of a supervisor before this one).</summary>
    public ImmutableHashSet<IActorRef> Busy { get; init; } = [];
    public ImmutableHashSet<IActorRef> Paused { get; init; } = [];
    public GenerationMembers? Current { get; init; }

    public bool IsMember(IActorRef rank) => Current?.IndexOf(rank) >= 0;

    /// <summary>The registered ranks in ring order: by node, then local rank.</summary>
    public IReadOnlyList<RankRegistration> RingOrder =>
        Ranks.OrderBy(r => r.Address.Node, StringComparer.Ordinal).ThenBy(r => r.Address.LocalRank).ToList();

    public int Nodes => Ranks.Select(r => r.Address.Node).Distinct().Count();

    /// <summary>The ranks registered now (the coordinator's roster): new ones are noted, a generation journaled last
    /// whose members all hold it is taken on, lost members abort their generation, joining ones pause it.</summary>
    public IReadOnlyList<RosterEvent> Process(IReadOnlyList<RankRegistration> ranks, RunState state, bool started)
    {
        var events = new List<RosterEvent>();
        var roster = this;
        void Emit(RosterEvent e) { events.Add(e); roster = roster.Apply(e); }

        var known = Ranks.Select(r => r.Rank).ToHashSet();
        var lastJournaled = state.Generations.LastOrDefault();
        Emit(new RosterEvent.RanksRegistered(ranks));
        foreach (var r in ranks.Where(r => !known.Contains(r.Rank)))
        {
            // still training a generation of a supervisor before this one (it started over: its node was lost, or the
            // journal's database was away): the last generation the journal names may be taken on; any other is paused
            bool busy = r.Live is { Running: true } live && live.RunIndex == RunIndex && live.Generation != roster.Current?.Number;
            Emit(new RosterEvent.RankArrived(r, busy));
            if (busy && r.Live!.Generation != lastJournaled?.Generation && !roster.Paused.Contains(r.Rank))
                Emit(new RosterEvent.PauseAsked(r.Rank, r.Live.RunIndex, r.Live.Generation));
        }
        if (roster.Adoptable(lastJournaled, started) is { } adopted) Emit(new RosterEvent.GenerationAdopted(adopted));
        var present = ranks.Select(r => r.Rank).ToHashSet();
        foreach (var gone in roster.Held.Keys.Where(k => !present.Contains(k)).ToList()) Emit(new RosterEvent.RankGone(gone));
        if (roster.Current is { } g)
        {
            var lost = Enumerable.Range(0, g.Ranks.Count).Where(i => !g.Lost.Contains(i) && !present.Contains(g.Ranks[i].Rank)).ToList();
            foreach (var i in lost) Emit(new RosterEvent.MemberLost(i));
            if (lost.Count > 0) Emit(new RosterEvent.GenerationAborted(KeepState: true));
            int joining = ranks.Count(r => g.IndexOf(r.Rank) < 0 && !roster.Busy.Contains(r.Rank));
            if (joining > 0 && g.Training && !g.PauseSent && lost.Count == 0) Emit(new RosterEvent.GenerationPaused(joining));
        }
        return events;
    }

    /// <summary>A rank said it stopped: a member of ours, a rank of an earlier supervisor's generation, or one paused.</summary>
    public IReadOnlyList<RosterEvent> Process(RankStopped stopped, IActorRef rank)
    {
        var events = new List<RosterEvent> { new RosterEvent.RankStoppedHolding(rank, stopped.State, Busy.Contains(rank), stopped.Generation) };
        if (Current is { } g && stopped.Generation == g.Number && g.IndexOf(rank) is var i and >= 0)
        {
            events.Add(new RosterEvent.MemberStopped(i, stopped.Reason, stopped.Detail));
            // a member whose ring broke (or never formed) leaves the others waiting in theirs: call the generation off
            if (stopped.Reason == RankStopReason.RingBroken) events.Add(new RosterEvent.GenerationAborted(KeepState: true));
        }
        return events;
    }

    /// <summary>Pauses every rank still training an earlier supervisor's generation (once the settle time is over).</summary>
    public IReadOnlyList<RosterEvent> PauseBusy() =>
        Busy.Where(r => Held.GetValueOrDefault(r) is not null && !Paused.Contains(r))
            .Select(r => (RosterEvent)new RosterEvent.PauseAsked(r, Held[r]!.RunIndex, Held[r]!.Generation)).ToList();

    /// <summary>After a fault: every member drops what it holds, and nothing any rank holds counts any more.</summary>
    public IReadOnlyList<RosterEvent> Drop() =>
        Current is null ? [new RosterEvent.StatesDropped()] : [new RosterEvent.GenerationAborted(KeepState: false), new RosterEvent.StatesDropped()];

    /// <summary>
    /// Whether to form a generation now, from which ranks and where it starts: when there is something to train, the
    /// ranks of <paramref name="minNodes"/> nodes are in (for the run's first), the last generation's ranks had until
    /// <paramref name="settleUntil"/> to register again, and none of them trains (<paramref name="fromJournal"/>: after a
    /// fault, nothing they hold counts).
    /// </summary>
    public Formation? Next(RunState state, int minNodes, bool fromJournal, long epochSize, DateTime now, DateTime settleUntil, IReadOnlySet<string> up)
    {
        if (Ranks.Count == 0 || state.TrainOrder() is null) return null;
        if (state.Generations.Count == 0 && Nodes < minNodes)
            return new Formation.Wait($"ranks of {Nodes} node(s) are in; waiting for {minNodes} before the run's first generation", null);
        if (Current is null && now < settleUntil && MissingNodes(state.Generations.LastOrDefault(), up) is { Count: > 0 } missing)
            return new Formation.Wait($"waiting up to {(settleUntil - now).TotalSeconds:F1} s for the ranks of {string.Join(", ", missing)} to register again", settleUntil - now);
        // survivors' states are only complete once every one of them stopped
        if (!fromJournal && (Current?.Training == true || Busy.Count > 0)) return null;
        var ranks = RingOrder;
        return state.FormGeneration(ranks.Select(r => (r.Address, Held.GetValueOrDefault(r.Rank))).ToList(), RunIndex, epochSize, fromJournal)
            is var (formed, start) ? new Formation.Form(formed, start, ranks) : null;
    }

    /// <summary>Nodes of the last journaled generation that are <paramref name="up"/> in the cluster but have no rank registered here.</summary>
    public IReadOnlyList<string> MissingNodes(GenerationFormed? last, IReadOnlySet<string> up)
    {
        var registered = Ranks.Select(r => r.Address.Node).ToHashSet();
        return last is null ? [] : last.Members.Select(m => m.Node).Distinct().Where(n => up.Contains(n) && !registered.Contains(n)).ToList();
    }

    /// <summary>The generation the journal names last, if every member of it registered holding it (training, or
    /// stopped at the phase's end): it is taken on as it is — no new generation, no step lost.</summary>
    GenerationMembers? Adoptable(GenerationFormed? last, bool started)
    {
        if (Current is not null || !started || last is null) return null;
        var members = last.Members.Select(m => Ranks.FirstOrDefault(r => r.Address.Node == m.Node && r.Address.LocalRank == m.LocalRank)).ToList();
        if (members.Any(m => m is null || Held.GetValueOrDefault(m.Rank) is not { } l || l.RunIndex != RunIndex || l.Generation != last.Generation))
            return null;
        return GenerationMembers.Of(last.Generation, last.Phase, members!);
    }

    public GenerationRoster Apply(RosterEvent e) => e switch
    {
        RosterEvent.RanksRegistered r => this with { Ranks = r.Ranks },
        RosterEvent.RankArrived a => this with { Held = Held.SetItem(a.Registration.Rank, a.Registration.Live), Busy = a.Busy ? Busy.Add(a.Registration.Rank) : Busy },
        RosterEvent.PauseAsked p => this with { Paused = Paused.Add(p.Rank) },
        RosterEvent.GenerationAdopted a => this with { Current = a.Members, Busy = Busy.Except(a.Members.Ranks.Select(m => m.Rank)) },
        RosterEvent.RankGone g => this with { Held = Held.Remove(g.Rank), Busy = Busy.Remove(g.Rank) },
        RosterEvent.MemberLost l => this with { Current = Current! with { Lost = Current.Lost.Add(l.Index) } },
        RosterEvent.GenerationPaused => this with { Current = Current! with { PauseSent = true } },
        RosterEvent.RankStoppedHolding s => this with { Held = Held.SetItem(s.Rank, s.State), Paused = Paused.Remove(s.Rank), Busy = Busy.Remove(s.Rank) },
        RosterEvent.MemberStopped m => this with { Current = Current! with { Stopped = Current.Stopped.Add(m.Index) } },
        RosterEvent.GenerationClaimed c => this with { Current = c.Members },
        RosterEvent.GenerationStarted => this with { Busy = [] },
        RosterEvent.StatesDropped => this with { Held = Held.ToImmutableDictionary(kv => kv.Key, _ => (LiveState?)null) },
        RosterEvent.GenerationAborted => this,
        _ => throw new ArgumentOutOfRangeException(nameof(e), e, "not a roster event"),
    };

    public GenerationRoster ApplyAll(IEnumerable<RosterEvent> events) => events.Aggregate(this, (r, e) => r.Apply(e));
}

/// <summary>A formed generation: its members in ring order, and which of them stopped or were lost since.</summary>
public sealed record GenerationMembers(int Number, int Phase, IReadOnlyList<RankRegistration> Ranks, ImmutableHashSet<int> Stopped,
    ImmutableHashSet<int> Lost, bool PauseSent)
{
    public static GenerationMembers Of(int number, int phase, IReadOnlyList<RankRegistration> ranks) => new(number, phase, ranks, [], [], false);

    public int IndexOf(IActorRef rank) => Ranks.ToList().FindIndex(r => r.Rank.Equals(rank));

    public bool Training => Enumerable.Range(0, Ranks.Count).Any(i => !Stopped.Contains(i) && !Lost.Contains(i));

    /// <summary>Members still training.</summary>
    public IEnumerable<IActorRef> Active => Ranks.Where((_, i) => !Stopped.Contains(i) && !Lost.Contains(i)).Select(r => r.Rank);

    /// <summary>Members not lost (training or stopped).</summary>
    public IEnumerable<IActorRef> Reachable => Ranks.Where((_, i) => !Lost.Contains(i)).Select(r => r.Rank);
}
