using System.Runtime.InteropServices;
using TorchSharp;

namespace ActorTraining.Compute.Runtime;

/// <summary>Facts about the loaded TorchSharp/libtorch, and the process-wide libtorch settings every process runs with.</summary>
public static class TorchRuntime
{
    static readonly Lazy<bool> Configured = new(Apply);

    public static string Describe() =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}, " +
        $"threads {torch.get_num_threads()}, cuda {(torch.cuda.is_available() ? "available" : "not available")}, " +
        $"oneDNN {(Configure() && OneDnnEnabled ? "on" : "off")}, NNPACK off";

    /// <summary>
    /// Applies the settings once per process (later calls return at once): oneDNN and NNPACK off, so CPU convolutions
    /// take libtorch's own kernels on every machine — libtorch 2.10's oneDNN returns wrong input gradients (garbage, NaN in
    /// 1–7 % of passes) for HTS-AT's convolutions on AMD Zen 5 with AVX-512 (BENCHMARKS.md, "CPU kernels"), and NNPACK
    /// runs on some CPUs only; and libtorch's own log at ERROR, so its C++ warnings never reach a user's stderr.
    /// </summary>
    public static bool Configure() => Configured.Value;

    static bool Apply()
    {
        torch.get_num_threads(); // TorchSharp loads libtorch in its static constructor
        var context = GlobalContext();
        SetUserEnabledMkldnn(context, false);
        SetUserEnabledNnpack(context, false);
        var c10 = NativeLibrary.Load("libc10.so", typeof(TorchRuntime).Assembly, null);
        Marshal.WriteInt32(NativeLibrary.GetExport(c10, "FLAGS_caffe2_log_level"), LogLevelError);
        return true;
    }

    const int LogLevelError = 2; // c10's severities: INFO 0, WARNING 1, ERROR 2, FATAL 3

    /// <summary>Whether oneDNN (MKL-DNN) may be used for CPU operators: false once <see cref="Configure"/> ran.</summary>
    public static bool OneDnnEnabled => UserEnabledMkldnn(GlobalContext());

    // at::Context's switches (the same ones torch.backends.mkldnn/nnpack set in Python), which TorchSharp does not wrap
    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool UserEnabledMkldnn(IntPtr context);
}
