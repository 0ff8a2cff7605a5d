using System.Security.Cryptography;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// Fetches a whole shard into a file, in byte ranges: a connection cut mid-shard resumes at the last byte received, a
/// transient failure is retried with exponential backoff (0.5 s doubling to 10 s), and a source that gives no byte for
/// <paramref name="timeout"/> fails with a sentence naming it. The file is written as <c>.part</c> and renamed only
/// when whole (and, given <paramref name="sha256"/>, matching it), so a reader never sees a torn shard.
/// </summary>
public static class ShardDownload
{
    const long RangeBytes = 16L << 20;

    /// <param name="notice">hears of the first transient failure of each fetch (the download goes on retrying).</param>
    public static async Task<long> FetchAsync(ShardSource source, string destination, string? sha256, TimeSpan timeout, CancellationToken cancel,
        Action<string>? notice = null)
    {
        var part = $"{destination}.{Environment.ProcessId}.{Guid.NewGuid():N}.part";
        try
        {
            bool told = false;
            void Tell(TransientSourceException e)
            {
                if (told) return;
                told = true;
                notice?.Invoke($"{e.Message}; retrying for up to {timeout.TotalSeconds:0} s");
            }
            long length = await Retrying(source, timeout, () => source.LengthAsync(cancel), Tell, cancel);
            long have = 0;
            await using (var file = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                while (have < length)
                {
                    long start = have, count = Math.Min(RangeBytes, length - have);
                    await Retrying(source, timeout, async () =>
                    {
                        file.Position = have;
                        await source.CopyRangeAsync(have, count - (have - start), file, n => have += n, cancel);
                        if (have < start + count) throw new TransientSourceException(source.Url, $"ended at byte {have} of {length}");
                        return 0;
                    }, Tell, cancel);
                }
                await file.FlushAsync(cancel);
            }
            if (sha256 is not null)
            {
                string actual;
                await using (var read = File.OpenRead(part)) actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(read, cancel));
                if (!actual.Equals(sha256, StringComparison.OrdinalIgnoreCase))
                    throw new ShardCorruptException(source.Url, $"content does not match the index (SHA-256 {actual[..12]}…, index {sha256[..Math.Min(12, sha256.Length)]}…)");
            }
            File.Move(part, destination, overwrite: true);
            return length;
        }
        finally
        {
            File.Delete(part);
        }
    }

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, a permanent failure, or <paramref name="timeout"/> without progress.</summary>
    static async Task<T> Retrying<T>(ShardSource source, TimeSpan timeout, Func<Task<T>> attempt, Action<TransientSourceException> failed, CancellationToken cancel)
    {
        var since = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try { return await attempt(); }
            catch (TransientSourceException e)
            {
                failed(e);
                if (DateTime.UtcNow - since > timeout)
                    throw new SourceUnavailableException(source.Url, $"unreachable for {timeout.TotalSeconds:0} s ({e.Message[(source.Url.Length + 2)..].Replace("unreachable: ", "")}); the same command resumes the run once it is back");
                await Task.Delay(delay, cancel);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}

/// <summary>A shard whose bytes are not what its index says (a torn or replaced file).</summary>
public sealed class ShardCorruptException(string url, string reason) : ShardSourceException(url, reason);

/// <summary>A source that stayed away past its timeout: the run stops (after its restarts) rather than skip its samples.</summary>
public sealed class SourceUnavailableException(string url, string reason) : ShardSourceException(url, reason);
