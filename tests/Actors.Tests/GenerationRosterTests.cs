using ActorTraining.Compute.Compression;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>Membership of a run's generations, without processes: ranks are test probes, the roster is a value.</summary>
public class GenerationRosterTests : TestKit
{
    static readonly PhasePlan[] Plan = [new(0, new Compression(CompressionMethod.Pool, 2, PoolingKind.Max), 2, 1e-3, 10, 64), new(1, new Compression(CompressionMethod.Pool, 1, PoolingKind.Max), 1, 1e-3, 10, 256)];
    static readonly DateTime Now = new(2026, 12, 7, 4, 0, 0, DateTimeKind.Utc);
    static readonly IReadOnlySet<string> NoneUp = new HashSet<string>();

    static RunState Started() => RunState.Empty.ApplyAll(RunState.Empty.Process(new StartRun("h1", Plan)));

    RankRegistration Rank(string node, int local, LiveState? live = null) =>
        new(CreateTestProbe().Ref, new RankAddress(node, local, "cpu", $"127.0.0.1:{4000 + local}"), live);

    static LiveState Holding(int generation, long step, bool running = true) =>
        new(0, 0, generation, 0, step * 8, step, "hash", EpochTotals.Zero, 1e-3, running);

    static (GenerationRoster Roster, IReadOnlyList<RosterEvent> Events) Registered(GenerationRoster roster, RunState state, params RankRegistration[] ranks)
    {
        var events = roster.Process(ranks, state, started: true);
        return (roster.ApplyAll(events), events);
    }

    /// <summary>Forms the next generation and journals it in <paramref name="state"/>.</summary>
    static GenerationRoster Formed(GenerationRoster roster, ref RunState state)
    {
        var form = Assert.IsType<Formation.Form>(roster.Next(state, 1, false, 1000, Now, Now, NoneUp));
        state = state.Apply(form.Formed);
        return roster.ApplyAll([new RosterEvent.GenerationClaimed(GenerationMembers.Of(form.Formed.Generation, form.Formed.Phase, form.Ranks)),
            new RosterEvent.GenerationStarted()]);
    }

    static List<(IActorRef To, object Message)> Orders(GenerationRoster before, IEnumerable<RosterEvent> events)
    {
        var orders = new List<(IActorRef, object)>();
        foreach (var e in events)
        {
            before = before.Apply(e);
            orders.AddRange(RosterOrders.Of(e, before));
        }
        return orders;
    }

    [Fact]
    public void ANewRunFormsItsFirstGenerationFromEveryRankInRingOrder()
    {
        var state = Started();
        var b1 = Rank("10.0.0.2:5000", 1);
        var a0 = Rank("10.0.0.1:5000", 0);
        var b0 = Rank("10.0.0.2:5000", 0);
        var (roster, _) = Registered(new GenerationRoster(0), state, b1, a0, b0);
        var form = Assert.IsType<Formation.Form>(roster.Next(state, 1, false, 1000, Now, Now, NoneUp));
        Assert.Equal([a0.Rank, b0.Rank, b1.Rank], form.Ranks.Select(r => r.Rank));
        Assert.Equal((0, 0, 0, 0L, "fresh"), (form.Formed.Generation, form.Formed.Phase, form.Formed.Epoch, form.Formed.Position, form.Formed.StartedFrom));
    }

    [Fact]
    public void TheFirstGenerationWaitsForMinNodesAndLaterOnesGoOnWithWhoeverIsThere()
    {
        var state = Started();
        var (roster, _) = Registered(new GenerationRoster(0), state, Rank("10.0.0.1:5000", 0));
        var wait = Assert.IsType<Formation.Wait>(roster.Next(state, 2, false, 1000, Now, Now, NoneUp));
        Assert.Contains("waiting for 2", wait.Why);
        var later = state.Apply(new GenerationFormed(0, [roster.Ranks[0].Address], 0, 0, 0, 0, "fresh"));
        Assert.IsType<Formation.Form>(roster.Next(later, 2, false, 1000, Now, Now, NoneUp));
    }

    [Fact]
    public void ALostMemberAbortsTheGenerationForTheOthersWhoKeepTheirState()
    {
        var state = Started();
        var a = Rank("10.0.0.1:5000", 0);
        var b = Rank("10.0.0.2:5000", 0);
        var roster = Formed(Registered(new GenerationRoster(0), state, a, b).Roster, ref state);
        var events = roster.Process([a], state, started: true);
        Assert.Contains(new RosterEvent.MemberLost(1), events);
        var orders = Orders(roster, events);
        Assert.Equal([(a.Rank, (object)new AbortGeneration(0, 0, KeepState: true))], orders);
        var after = roster.ApplyAll(events);
        Assert.False(after.Held.ContainsKey(b.Rank));
        Assert.True(after.Current!.Training); // a trains until it says it stopped
        Assert.Null(after.Next(state, 1, false, 1000, Now, Now, NoneUp)); // nothing is formed before then
        after = after.ApplyAll(after.Process(new RankStopped(0, 0, 0, RankStopReason.RingBroken, Holding(0, 5, running: false), ""), a.Rank));
        var form = Assert.IsType<Formation.Form>(after.Next(state, 1, false, 1000, Now, Now, NoneUp));
        Assert.Equal(("live", 5L, 1), (form.Formed.StartedFrom, form.Formed.Step, form.Formed.Generation));
    }

    [Fact]
    public void ARankJoiningPausesTheTrainingGenerationOnce()
    {
        var state = Started();
        var a = Rank("10.0.0.1:5000", 0);
        var roster = Formed(Registered(new GenerationRoster(0), state, a).Roster, ref state);
        var c = Rank("10.0.0.3:5000", 0);
        var events = roster.Process([a, c], state, started: true);
        Assert.Equal([(a.Rank, (object)new PauseGeneration(0, 0))], Orders(roster, events));
        roster = roster.ApplyAll(events);
        Assert.Empty(Orders(roster, roster.Process([a, c], state, started: true))); // asked once
    }

    [Fact]
    public void AStartedOverSupervisorTakesOnTheLastJournaledGenerationWhenEveryMemberHoldsIt()
    {
        var a = Rank("10.0.0.1:5000", 0, Holding(3, 40));
        var b = Rank("10.0.0.2:5000", 0, Holding(3, 40));
        var state = Started().Apply(new GenerationFormed(3, [a.Address, b.Address], 0, 0, 0, 30, "live"));

        var (partial, first) = Registered(new GenerationRoster(0), state, a);
        Assert.DoesNotContain(first, e => e is RosterEvent.GenerationAdopted or RosterEvent.PauseAsked);
        Assert.Contains(a.Rank, partial.Busy);

        var events = partial.Process([a, b], state, started: true);
        var orders = Orders(partial, events);
        Assert.Equal([(a.Rank, (object)new AdoptGeneration(0, 3)), (b.Rank, new AdoptGeneration(0, 3))], orders);
        var roster = partial.ApplyAll(events);
        Assert.Equal(3, roster.Current!.Number);
        Assert.Empty(roster.Busy);
    }

    [Fact]
    public void ARankStillTrainingAnOlderGenerationIsPausedOnceAndFreedWhenItStops()
    {
        var state = Started().Apply(new GenerationFormed(3, [new RankAddress("10.0.0.9:5000", 0, "cpu", "x:1")], 0, 0, 0, 0, "fresh"));
        var old = Rank("10.0.0.1:5000", 0, Holding(2, 17));
        var (roster, events) = Registered(new GenerationRoster(0), state, old);
        Assert.Equal([(old.Rank, (object)new PauseGeneration(0, 2))], Orders(new GenerationRoster(0), events));
        Assert.Empty(roster.PauseBusy()); // already asked
        Assert.Null(roster.Next(state, 1, false, 1000, Now, Now, NoneUp)); // it still trains

        roster = roster.ApplyAll(roster.Process(new RankStopped(0, 2, 0, RankStopReason.Paused, Holding(2, 18, running: false), ""), old.Rank));
        Assert.Empty(roster.Busy);
        Assert.Empty(roster.Paused);
        Assert.Equal(18, roster.Held[old.Rank]!.Step);
    }

    [Fact]
    public void AMemberWhoseRingBrokeCallsTheGenerationOffForTheOthers()
    {
        var state = Started();
        var a = Rank("10.0.0.1:5000", 0);
        var b = Rank("10.0.0.2:5000", 0);
        var c = Rank("10.0.0.3:5000", 0);
        var roster = Formed(Registered(new GenerationRoster(0), state, a, b, c).Roster, ref state);
        var events = roster.Process(new RankStopped(0, 0, 1, RankStopReason.RingBroken, null, "peer closed"), b.Rank);
        Assert.Equal([(a.Rank, (object)new AbortGeneration(0, 0, true)), (c.Rank, new AbortGeneration(0, 0, true))], Orders(roster, events));
    }

    [Fact]
    public void ASupervisorThatStartedOverWaitsForTheLastGenerationsNodesThatAreStillUp()
    {
        var a = Rank("10.0.0.1:5000", 0);
        var b = Rank("10.0.0.2:5000", 0);
        var state = Started().Apply(new GenerationFormed(0, [a.Address, b.Address], 0, 0, 0, 0, "fresh"));
        var (roster, _) = Registered(new GenerationRoster(0), state, a);
        var wait = Assert.IsType<Formation.Wait>(roster.Next(state, 1, false, 1000, Now, Now.AddSeconds(5), new HashSet<string> { "10.0.0.2:5000" }));
        Assert.Contains("10.0.0.2:5000", wait.Why);
        Assert.Equal(TimeSpan.FromSeconds(5), wait.Retry);
        Assert.IsType<Formation.Form>(roster.Next(state, 1, false, 1000, Now, Now.AddSeconds(5), NoneUp)); // that node is gone
        Assert.IsType<Formation.Form>(roster.Next(state, 1, false, 1000, Now.AddSeconds(6), Now.AddSeconds(5), new HashSet<string> { "10.0.0.2:5000" }));
    }

    [Fact]
    public void AfterAFaultEveryReachableMemberDropsItsStateAndNothingHeldCounts()
    {
        var state = Started();
        var a = Rank("10.0.0.1:5000", 0, Holding(0, 9, running: false));
        var b = Rank("10.0.0.2:5000", 0);
        var roster = Formed(Registered(new GenerationRoster(0), state, a, b).Roster, ref state);
        roster = roster.ApplyAll(roster.Process(new RankStopped(0, 0, 0, RankStopReason.Paused, Holding(0, 9, running: false), ""), a.Rank));
        var events = roster.Drop();
        Assert.Equal([(a.Rank, (object)new AbortGeneration(0, 0, false)), (b.Rank, new AbortGeneration(0, 0, false))], Orders(roster, events));
        Assert.All(roster.ApplyAll(events).Held.Values, Assert.Null);
    }
}
