using System.Runtime.InteropServices;
using TorchSharp;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// libtorch's intra-op parallelism is OpenMP: each native thread that runs an operator leads its own team of
/// get_num_threads() threads, which spin a while after every region. A pipeline thread's operators are small (a clip's
/// resampling conv1d) and gain nothing from a team, whose spinning took a second core: 2× the CPU per clip (BENCHMARKS.md,
/// "Ingest from shards"). <see cref="OnThisThread"/> makes the calling thread's regions serial — omp_set_num_threads is
/// per thread, unlike at::set_num_threads, which would also change every thread started later (a trainer's).
/// </summary>
public static unsafe class SerialTorch
{
    [ThreadStatic] static bool _serial;
    static readonly Lazy<IntPtr> SetNumThreads = new(Resolve);

    public static void OnThisThread()
    {
        if (_serial) return;
        _serial = true;
        torch.get_num_threads(); // ATen's per-thread first use sets the thread's count to the process's: let it happen first
        if (SetNumThreads.Value != IntPtr.Zero) ((delegate* unmanaged<int, void>)SetNumThreads.Value)(1);
    }

    /// <summary>omp_set_num_threads of the OpenMP runtime libtorch loaded (libgomp under a hashed name), or zero where there is none to find.</summary>
    static IntPtr Resolve()
    {
        torch.get_num_threads(); // libtorch (and its OpenMP runtime) loaded
        if (!File.Exists("/proc/self/maps")) return IntPtr.Zero;
        var library = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .FirstOrDefault(p => Path.GetFileName(p).StartsWith("libgomp") || Path.GetFileName(p).StartsWith("libiomp"));
        if (library is null || !NativeLibrary.TryLoad(library, out var handle)) return IntPtr.Zero;
        return NativeLibrary.TryGetExport(handle, "omp_set_num_threads", out var export) ? export : IntPtr.Zero;
    }
}
