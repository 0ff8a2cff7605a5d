using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>What <see cref="GenerationRoster.Next"/> decided about the next generation.</summary>
public abstract record Formation
{
    /// <summary>Not yet: <paramref name="Why"/>, and when to look again (null: at the next change).</summary>
    public sealed record Wait(string Why, TimeSpan? Retry) : Formation;

    /// <summary>Form <paramref name="Formed"/> from <paramref name="Ranks"/> (ring order), starting from <paramref name="Start"/>.</summary>
    public sealed record Form(GenerationFormed Formed, GenerationStart Start, IReadOnlyList<RankRegistration> Ranks) : Formation
    {
        public string Describe() => $"generation {Formed.Generation}: {Ranks.Count} rank(s) on {Ranks.Select(r => r.Address.Node).Distinct().Count()} node(s), " +
            $"phase {Formed.Phase} epoch {Formed.Epoch} position {Formed.Position} step {Formed.Step}, from {Formed.StartedFrom}";
    }
}
