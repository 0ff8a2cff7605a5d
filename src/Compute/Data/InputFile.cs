namespace ActorTraining.Compute.Data;

/// <summary>
/// What makes a path the user names unfit to read, checked before anything opens it: a directory; a size of 0, which
/// is an empty file or a device, pipe or /proc entry (.NET reports 0 for those, and /dev/zero never ends while a FIFO
/// blocks the open itself); or, for text read whole, an absurd size.
/// </summary>
public static class InputFile
{
    /// <summary>Null when <paramref name="path"/> is missing (callers say "not found" their own way) or fine; else what is wrong, in words.</summary>
    public static string? Problem(string path, long maxBytes = long.MaxValue)
    {
        if (Directory.Exists(path)) return "is a directory, not a file";
        var info = new FileInfo(path);
        if (!info.Exists) return null;
        if (info.Length == 0) return "is empty (0 bytes), or a device or pipe rather than a file";
        if (info.Length > maxBytes) return $"is {info.Length / 1e6:F0} MB, more than the {maxBytes / 1e6:F0} MB such a file can sensibly be";
        return null;
    }
}
