using System.Runtime.InteropServices;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// Lowers the calling OS thread to the lowest CPU priority (Linux nice 19), so that it runs on CPU time the threads
/// at normal priority leave over. The evaluator uses it: scoring the previous epoch's checkpoint is real work, but on
/// shared cores it took ~10 % of the trainer's speed at equal priority (BENCHMARKS (d)), and a score that arrives a
/// little later costs nobody anything while a slower trainer costs the whole run. libgomp's worker threads, which
/// libtorch starts from the calling thread at its first parallel region, inherit the value. .NET's
/// <see cref="Thread.Priority"/> does not change anything on Linux, hence setpriority on the thread's own id.
/// </summary>
public static class BackgroundPriority
{
    const int PrioProcess = 0;
    const int LowestNice = 19;

    /// <summary>True when the calling thread now runs at nice 19; false where that is not possible (not Linux).</summary>
    public static bool LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return false;
        return setpriority(PrioProcess, (uint)gettid(), LowestNice) == 0;
    }

    /// <summary>The calling thread's nice value (Linux), for tests.</summary>
    public static int CurrentThreadNice()
    {
        // getpriority may return -1 as a value; the kernel's /proc view is unambiguous
        var stat = File.ReadAllText($"/proc/self/task/{gettid()}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16]); // field 19 of stat; fields start at field 3 (state)
    }

    [DllImport("libc", SetLastError = true)]
    static extern int setpriority(int which, uint who, int prio);

    [DllImport("libc")]
    static extern int gettid();
}
