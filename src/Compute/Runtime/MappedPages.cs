using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// Tells the kernel a memory-mapped file is read at random (madvise MADV_RANDOM): a touched page is read alone instead of
/// with its readahead window (up to 32 pages), so an index read in a shuffled order keeps only the pages it used resident,
/// not most of the file. Advice only: where it fails or does not exist, nothing changes.
/// </summary>
public static unsafe partial class MappedPages
{
    const int MadviseRandom = 1;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);

    /// <param name="viewStart">The view's own start (page-aligned: the pointer the view handle gives, before its offset).</param>
    public static void ReadAtRandom(byte* viewStart, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        try { Madvise(viewStart, (nuint)length, MadviseRandom); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
