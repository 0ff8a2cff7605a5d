namespace ActorTraining.Compute.Data;

/// <summary>An exclusive lock on a run directory, for work one node does while the others sharing the directory wait.</summary>
public static class RunDirectoryLock
{
    /// <summary>Waits (up to 30 minutes) for the lock; dispose the stream to release it. The lock dies with the process.</summary>
    public static FileStream Take(string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        var path = Path.Combine(runDirectory, ".data.lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(30);
        while (true)
        {
            // FileShare.None is an advisory lock (flock) on Linux, held until the stream is closed or the process dies
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline && File.Exists(path)) { Thread.Sleep(200); }
        }
    }
}
