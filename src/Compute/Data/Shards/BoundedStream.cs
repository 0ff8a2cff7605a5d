namespace ActorTraining.Compute.Data.Shards;

/// <summary>The next <paramref name="length"/> bytes of a stream, read-only, not owning it.</summary>
sealed class BoundedStream(Stream inner, long length) : ReadOnlyStream
{
    long _left = length;

    public override int Read(Span<byte> buffer)
    {
        if (_left <= 0) return 0;
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        _left -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel = default)
    {
        if (_left <= 0) return 0;
        int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancel);
        _left -= n;
        return n;
    }

}
