namespace ActorTraining.Compute.Data.Shards;

/// <summary>A read-only stream whose every read fails with a <see cref="TimeoutException"/> after <paramref name="timeout"/>
/// without a byte: a network stream that stalls (a half-open connection) becomes a retry instead of a hang.</summary>
sealed class StallGuard(Stream inner, TimeSpan timeout) : ReadOnlyStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel = default)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stall.CancelAfter(timeout);
        try { return await inner.ReadAsync(buffer, stall.Token); }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested) { throw new TimeoutException($"no byte for {timeout.TotalSeconds:0} s"); }
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
