using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>What a <see cref="RosterEvent"/> asks of the ranks, and the line it is logged with — read off the roster it was applied to.</summary>
public static class RosterOrders
{
    public static IEnumerable<(IActorRef To, object Message)> Of(RosterEvent e, GenerationRoster after)
    {
        var g = after.Current;
        return e switch
        {
            RosterEvent.PauseAsked p => [(p.Rank, new PauseGeneration(p.RunIndex, p.Generation))],
            // a member that had stopped tells so again after the commits it sends: nothing is formed before those are in
            RosterEvent.GenerationAdopted a => a.Members.Ranks.Select(m => (m.Rank, (object)new AdoptGeneration(after.RunIndex, a.Members.Number))),
            RosterEvent.GenerationAborted a => (a.KeepState ? g!.Active : g!.Reachable).Select(r => (r, (object)new AbortGeneration(after.RunIndex, g.Number, a.KeepState))),
            RosterEvent.GenerationPaused => g!.Active.Select(r => (r, (object)new PauseGeneration(after.RunIndex, g.Number))),
            _ => [],
        };
    }

    public static (LogLevel Level, string Text)? Note(RosterEvent e, GenerationRoster after)
    {
        var g = after.Current;
        return e switch
        {
            RosterEvent.GenerationAdopted a => (LogLevel.InfoLevel, $"generation {a.Members.Number}: taken on as it is, its {a.Members.Ranks.Count} " +
                $"member(s) holding it ({a.Members.Ranks.Count(m => after.Held.GetValueOrDefault(m.Rank) is { Running: true })} training)"),
            RosterEvent.MemberLost l => (LogLevel.WarningLevel, $"generation {g!.Number}: member {l.Index} ({g.Ranks[l.Index].Address}) is gone"),
            RosterEvent.GenerationPaused p => (LogLevel.InfoLevel, $"generation {g!.Number}: pausing for {p.Joining} rank(s) joining"),
            RosterEvent.RankStoppedHolding { WasBusy: true } s => (LogLevel.InfoLevel,
                $"rank {s.Rank.Path} stopped a generation {s.Generation} of an earlier supervisor at step {s.State?.Step}"),
            RosterEvent.MemberStopped m => (LogLevel.InfoLevel, $"generation {g!.Number}: member {m.Index} stopped ({m.Reason}{(m.Detail.Length > 0 ? ": " + m.Detail : "")})"),
            _ => null,
        };
    }
}
