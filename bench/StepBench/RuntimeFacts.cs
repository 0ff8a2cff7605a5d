using TorchSharp;

namespace ActorTraining.StepBench;

/// <summary>What a measurement ran on, in the same shape as the `runtime` block of bench/pytorch/ast_step.py.</summary>
public static class RuntimeFacts
{
    public static Dictionary<string, object?> Collect() => new()
    {
        ["torch"] = $"libtorch {torch.__version__} (TorchSharp {typeof(torch).Assembly.GetName().Version})",
        ["dotnet"] = Environment.Version.ToString(),
        ["torch_threads"] = torch.get_num_threads(),
        ["torch_interop_threads"] = torch.get_num_interop_threads(),
        // The official libtorch CPU build TorchSharp bundles links MKL statically and ships its own libgomp.
        ["blas"] = "MKL (statically linked in the official libtorch CPU build)",
        ["blas_env"] = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("OPENBLAS") || k.StartsWith("OMP_") || k.StartsWith("MKL_") || k.StartsWith("GOTO"))
            .ToDictionary(k => k, k => Environment.GetEnvironmentVariable(k)),
        ["cores"] = Environment.ProcessorCount,
        ["cpu"] = CpuModel(),
        ["load_avg_at_end"] = LoadAverage(),
    };

    static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException) { return "unknown"; }
    }

    static double[] LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ').Take(3)
                .Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (IOException) { return []; }
    }
}
