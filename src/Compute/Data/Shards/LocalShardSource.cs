namespace ActorTraining.Compute.Data.Shards;

/// <summary>A shard on a local (or mounted) filesystem.</summary>
public sealed class LocalShardSource : ShardSource
{
    public override Task<long> LengthAsync(CancellationToken cancel)
    {
        var info = new FileInfo(Url);
        return info.Exists ? Task.FromResult(info.Length) : throw new ShardNotFoundException(Url, "no such file");
    }

    public override async Task CopyRangeAsync(long offset, long count, Stream destination, Action<long> copied, CancellationToken cancel)
    {
        FileStream file;
        try { file = new FileStream(Url, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true); }
        catch (FileNotFoundException) { throw new ShardNotFoundException(Url, "no such file"); }
        catch (DirectoryNotFoundException) { throw new ShardSourceException(Url, "no such folder"); }
        catch (UnauthorizedAccessException e) { throw new ShardSourceException(Url, $"not readable: {e.Message}"); }
        await using (file)
        {
            file.Position = offset;
            await Pump(new BoundedStream(file, count), destination, copied, cancel);
        }
    }
}
