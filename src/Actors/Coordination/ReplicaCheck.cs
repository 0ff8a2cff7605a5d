using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>The members' parameter hashes of one step: every replica of a generation must be bit-identical.</summary>
public sealed class ReplicaCheck
{
    readonly Dictionary<(long Step, bool EpochEnd), Dictionary<int, string>> _hashes = new();

    /// <summary>Adds one member's hash; a sentence naming the divergence if the hashes of its step differ.</summary>
    public string? Diverged(ReplicaHash h, int members)
    {
        var key = (h.Step, h.EpochEnd);
        if (!_hashes.TryGetValue(key, out var seen)) _hashes[key] = seen = new Dictionary<int, string>();
        seen[h.Index] = h.Hash;
        string? divergence = seen.Values.Distinct().Count() > 1
            ? $"the {members} replicas diverged at step {h.Step}: parameter hashes " +
              string.Join(", ", seen.OrderBy(kv => kv.Key).Select(kv => kv.Value[..12])) + " (a ring that does not keep them bit-identical is a bug)"
            : null;
        if (seen.Count >= members) _hashes.Remove(key);
        return divergence;
    }

    public void Clear() => _hashes.Clear();
}
