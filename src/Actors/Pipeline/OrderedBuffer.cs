namespace ActorTraining.Actors;

/// <summary>
/// Puts items that arrive out of order (parallel workers finish when they finish) back into position order, so
/// batches are formed the same way on every run and a resumed run continues exactly. The positions expected are those
/// of a pipeline's share, in order: each one's successor is given (all positions, or a rank's share of them). Holds
/// only what arrived ahead of the next expected position; the pipeline's in-flight bound caps that.
/// </summary>
public sealed class OrderedBuffer<T>
{
    readonly Dictionary<long, T> _waiting = new();
    readonly Func<long, long> _successor;

    public OrderedBuffer(long firstPosition, Func<long, long>? successor = null)
    {
        Next = firstPosition;
        _successor = successor ?? (p => p + 1);
    }

    /// <summary>The next position to hand out.</summary>
    public long Next { get; private set; }

    public int Count => _waiting.Count;

    public void Add(long position, T item)
    {
        if (position < Next || !_waiting.TryAdd(position, item))
            throw new InvalidOperationException($"position {position} arrived twice or after it was handed out (next is {Next})");
    }

    /// <summary>Items from <see cref="Next"/> on, with their positions, as long as they are consecutive in the share.</summary>
    public IEnumerable<(long Position, T Item)> TakeReady()
    {
        while (_waiting.Remove(Next, out var item))
        {
            var position = Next;
            Next = _successor(Next);
            yield return (position, item);
        }
    }
}
