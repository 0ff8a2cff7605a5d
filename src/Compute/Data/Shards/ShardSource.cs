namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// Where a shard's bytes come from, read by byte range: a local file, an HTTP(S) server (Range requests) or an S3 bucket
/// (the AWS SDK). One failure vocabulary for all three: <see cref="TransientSourceException"/> is worth retrying (a
/// refused or cut connection, a 5xx, a timeout), <see cref="ShardSourceException"/> is not (missing, forbidden).
/// </summary>
public abstract class ShardSource
{
    public required string Url { get; init; }

    /// <summary>The shard's size in bytes.</summary>
    public abstract Task<long> LengthAsync(CancellationToken cancel);

    /// <summary>Copies bytes [offset, offset + count) to <paramref name="destination"/>; returns how many were copied
    /// before the source ended or failed (a transient failure after some bytes still reports them, so a retry resumes).</summary>
    public abstract Task CopyRangeAsync(long offset, long count, Stream destination, Action<long> copied, CancellationToken cancel);

    /// <summary>The source of <paramref name="url"/>: s3://bucket/key, http(s)://…, or a local path.</summary>
    public static ShardSource Of(string url)
    {
        if (url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)) return S3ShardSource.Of(url);
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return new HttpShardSource { Url = url };
        return new LocalShardSource { Url = Path.GetFullPath(url) };
    }

    protected static async Task Pump(Stream from, Stream to, Action<long> copied, CancellationToken cancel)
    {
        var buffer = new byte[1 << 16];
        int n;
        while ((n = await from.ReadAsync(buffer, cancel)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n), cancel);
            copied(n);
        }
    }
}

/// <summary>A shard that cannot be read and will not become readable by waiting: its message names the URL and why.</summary>
public class ShardSourceException(string url, string reason, Exception? inner = null) : Exception($"{url}: {reason}", inner)
{
    public string Url { get; } = url;
}

/// <summary>A failure worth retrying (connection refused or cut, server error, timeout).</summary>
public sealed class TransientSourceException(string url, string reason, Exception? inner = null) : ShardSourceException(url, reason, inner);

/// <summary>No object at the URL (HTTP 404, S3 NoSuchKey, no such file): for an optional file such as index.json, absent.</summary>
public sealed class ShardNotFoundException(string url, string reason) : ShardSourceException(url, reason);
