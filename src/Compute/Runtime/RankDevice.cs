using ActorTraining.Compute.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// The device a rank computes on — "cpu" or "cuda:N" — and the one place its tensors are made: every model, optimiser
/// state and batch of a rank is created or moved here, so a CUDA build never trains on the CPU by accident.
/// Checkpoints stay device-independent (they are written from CPU copies, see CheckpointFile).
/// </summary>
public sealed record RankDevice(string Name)
{
    public static readonly RankDevice Cpu = new("cpu");

    public bool IsCuda => Name.StartsWith("cuda", StringComparison.Ordinal);

    public Device Torch => IsCuda ? new Device(DeviceType.CUDA, int.Parse(Name.AsSpan(5))) : CPU;

    /// <summary>A tensor of <paramref name="values"/> with <paramref name="shape"/>, on this device.</summary>
    public Tensor Tensor(float[] values, long[] shape) => FromHost(tensor(values, shape));

    /// <summary>An index tensor (int64) of <paramref name="values"/> with <paramref name="shape"/>, on this device.</summary>
    public Tensor Indices(long[] values, long[] shape) => FromHost(tensor(values, shape));

    Tensor FromHost(Tensor host)
    {
        if (!IsCuda) return host;
        using (host) return host.to(Torch);
    }

    /// <summary>Moves <paramref name="module"/>'s parameters and buffers here (a no-op on the CPU).</summary>
    public T Place<T>(T module) where T : nn.Module
    {
        if (IsCuda) module.to(Torch);
        return module;
    }

    public override string ToString() => Name;

    /// <summary>What this process can compute on: the CPU and every visible CUDA device.</summary>
    public static IReadOnlyList<RankDevice> Available()
    {
        var list = new List<RankDevice> { Cpu };
        if (cuda.is_available())
            for (int i = 0; i < cuda.device_count(); i++) list.Add(new RankDevice($"cuda:{i}"));
        return list;
    }

    /// <summary>
    /// The ranks of a node: `training.devices` as written (["cpu"], ["cuda:0", "cuda:1"], ["cpu", "cpu"]) or ["auto"]
    /// (every visible GPU, else the CPU). A device that is not there is an error naming it and what is there.
    /// </summary>
    public static IReadOnlyList<RankDevice> Resolve(IReadOnlyList<string> configured, IReadOnlyList<RankDevice> available, string key = "training.devices")
    {
        if (configured.Count == 0) throw new ConfigException(key, "needs at least one device");
        if (configured is ["auto"])
        {
            var gpus = available.Where(d => d.IsCuda).ToList();
            return gpus.Count > 0 ? gpus : [Cpu];
        }
        var ranks = new List<RankDevice>();
        foreach (var name in configured)
        {
            var device = Parse(name, key);
            if (!available.Contains(device))
                throw new ConfigException(key, $"device '{name}' is not here (this process sees {string.Join(", ", available)}" +
                    (device.IsCuda && !available.Any(d => d.IsCuda) ? "; a GPU needs the CUDA build, -p:TorchBackend=cuda, and a driver" : "") + ")");
            if (device.IsCuda && ranks.Contains(device)) throw new ConfigException(key, $"device '{name}' is listed twice (one rank per GPU)");
            ranks.Add(device);
        }
        return ranks;
    }

    /// <summary>"cpu" or "cuda:N"; anything else is an error naming the key and the value.</summary>
    public static RankDevice Parse(string name, string key = "training.devices")
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return Cpu;
        if (n == "cuda") return new RankDevice("cuda:0");
        if (n.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(n.AsSpan(5), out var i) && i is >= 0 and < 1024)
            return new RankDevice($"cuda:{i}");
        throw new ConfigException(key, $"'{name}' is not a device (expected cpu, cuda:N or auto)");
    }
}
