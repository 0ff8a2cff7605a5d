namespace ActorTraining.Actors;

/// <summary>
/// Puts items that arrive out of order (parallel workers finish when they finish) back into position order, so
/// batches are formed the same way on every run and a resumed run continues exactly. Holds only what arrived
/// ahead of the next expected position; the pipeline's in-flight bound caps that.
/// </summary>
public sealed class OrderedBuffer<T>
{
    readonly Dictionary<long, T> _waiting = new();

    public OrderedBuffer(long firstPosition) => Next = firstPosition;

    /// <summary>The next position to hand out.</summary>
    public long Next { get; private set; }

    public int Count => _waiting.Count;

    public void Add(long position, T item)
    {
        if (position < Next || !_waiting.TryAdd(position, item))
            throw new InvalidOperationException($"position {position} arrived twice or after it was handed out (next is {Next})");
    }

    /// <summary>Items from <see cref="Next"/> on, as long as they are consecutive.</summary>
    public IEnumerable<T> TakeReady()
    {
        while (_waiting.Remove(Next, out var item))
        {
            Next++;
            yield return item;
        }
    }
}
