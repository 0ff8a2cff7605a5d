using TorchSharp;

namespace ActorTraining.Compute.Runtime;

/// <summary>Facts about the loaded TorchSharp/libtorch, for `info` and benchmark reports.</summary>
public static class TorchRuntime
{
    public static string Describe() =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}, " +
        $"threads {torch.get_num_threads()}, cuda {(torch.cuda.is_available() ? "available" : "not available")}";
}
