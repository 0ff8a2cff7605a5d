namespace ActorTraining.Compute.Features;

/// <summary>
/// The byte count of a cache folder, kept in its <c>space</c> file and changed only under that file's lock (flock,
/// which .NET takes for <see cref="FileShare.None"/>; it works across processes and, through the NFS lock manager,
/// across nodes). Every process that writes to the folder reserves its bytes here before it writes them, so the limit
/// holds for the folder whoever wrote. A process that died between a reservation and its write leaves the count a
/// record high until a process opens the folder while no other writer lives and counts the files again.
/// </summary>
public sealed class CacheSpace(string path)
{
    static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    readonly object _inProcess = new(); // flock is per open file: threads of one process would otherwise spin on each other

    /// <summary>Runs <paramref name="change"/> on the folder's count under the lock and keeps what it returns. The
    /// count passed is -1 when the file holds none yet. <see cref="TimeoutException"/> when the lock stays taken.</summary>
    public T Change<T>(Func<long, (long Bytes, T Result)> change)
    {
        lock (_inProcess)
        {
            using var file = Acquire();
            Span<byte> bytes = stackalloc byte[8];
            long now = RandomAccess.Read(file.SafeFileHandle, bytes, 0) == 8 ? BitConverter.ToInt64(bytes) : -1;
            var (after, result) = change(now);
            if (after != now)
            {
                BitConverter.TryWriteBytes(bytes, Math.Max(0, after));
                RandomAccess.Write(file.SafeFileHandle, bytes, 0);
            }
            return result;
        }
    }

    FileStream Acquire()
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        for (int attempt = 0; ; attempt++)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(Math.Min(1 + attempt / 8, 10)); }
            catch (IOException e) { throw new TimeoutException($"{path}: the feature cache's space lock stayed taken for {LockTimeout.TotalSeconds:F0} s", e); }
        }
    }
}
