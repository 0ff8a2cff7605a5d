namespace ActorTraining.Compute.Data.Shards;

/// <summary>A read-only stream whose every read fails with a <see cref="TimeoutException"/> after <paramref name="timeout"/>
/// without a byte: a network stream that stalls (a half-open connection) becomes a retry instead of a hang.</summary>
sealed class StallGuard(Stream inner, TimeSpan timeout) : Stream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel = default)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stall.CancelAfter(timeout);
        try { return await inner.ReadAsync(buffer, stall.Token); }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested) { throw new TimeoutException($"no byte for {timeout.TotalSeconds:0} s"); }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
