using System.Globalization;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// What Slurm tells a task started by <c>srun</c>: its job, its rank in the step (<c>SLURM_PROCID</c> of
/// <c>SLURM_STEP_NUM_TASKS</c>, falling back to <c>SLURM_NTASKS</c>), its index on its node (<c>SLURM_LOCALID</c>), its node
/// (<c>SLURMD_NODENAME</c>), the step's nodes (<c>SLURM_STEP_NODELIST</c>) and the GPUs it was given
/// (<c>CUDA_VISIBLE_DEVICES</c>, else <c>SLURM_STEP_GPUS</c>). A task is a node of the cluster: it listens on
/// <c>--port-base</c> + its local index, so tasks sharing a machine do not collide, and every task names the same seeds —
/// the first task of each of the step's first three nodes (local index 0 exists on every node whatever the
/// distribution). <paramref name="TasksHere"/>: the step's tasks on this node (<c>SLURM_STEP_TASKS_PER_NODE</c>, e.g.
/// <c>2(x3),1</c>), null when not said; <paramref name="GpusShared"/>: this node's tasks all see the same GPUs (no
/// <c>--gpus-per-task</c>, no binding).
/// </summary>
public sealed record SlurmStep(string JobId, int ProcId, int Tasks, int LocalId, string NodeName, IReadOnlyList<string> Nodes, IReadOnlyList<string> Gpus,
    string GpuVariable = "", int? TasksHere = null, bool GpusShared = false)
{
    /// <summary>The default <c>--port-base</c>: 4053, Akka.NET's customary remoting port.</summary>
    public const int DefaultPortBase = 4053;

    const int SeedCount = 3;

    /// <summary>The step this process is a task of, or null when it was not started by srun (no <c>SLURM_STEP_NODELIST</c>).</summary>
    public static SlurmStep? Read(IReadOnlyDictionary<string, string> environment)
    {
        if (!environment.TryGetValue("SLURM_STEP_NODELIST", out var list)) return null;
        string Text(string name) => environment.TryGetValue(name, out var v) && v.Length > 0 ? v
            : throw new ConfigException(name, "is not set, though SLURM_STEP_NODELIST is: start each task with srun");
        int Number(string name, int min) => int.TryParse(Text(name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min ? n
            : throw new ConfigException(name, $"must be a whole number >= {min}, got '{Text(name)}'");
        int tasks = environment.ContainsKey("SLURM_STEP_NUM_TASKS") ? Number("SLURM_STEP_NUM_TASKS", 1) : Number("SLURM_NTASKS", 1);
        int procId = Number("SLURM_PROCID", 0);
        if (procId >= tasks) throw new ConfigException("SLURM_PROCID", $"is {procId}, not below the step's {tasks} tasks");
        var nodes = SlurmHostlist.Expand(list, "SLURM_STEP_NODELIST");
        var node = Text("SLURMD_NODENAME");
        if (!nodes.Contains(node)) throw new ConfigException("SLURMD_NODENAME", $"'{node}' is not one of SLURM_STEP_NODELIST's nodes ({list})");
        string[] List(string name) => (environment.GetValueOrDefault(name) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string gpuVariable = environment.ContainsKey("CUDA_VISIBLE_DEVICES") ? "CUDA_VISIBLE_DEVICES" : "SLURM_STEP_GPUS";
        var gpus = List(gpuVariable);
        var perNode = environment.GetValueOrDefault("SLURM_STEP_TASKS_PER_NODE") is { Length: > 0 } counts ? TaskCounts(counts, nodes.Count) : null;
        int? here = perNode?[nodes.ToList().IndexOf(node)];
        bool shared = here > 1 && gpus.Length > 0 && !environment.ContainsKey("SLURM_GPUS_PER_TASK") && gpus.Length >= List("SLURM_STEP_GPUS").Length;
        return new SlurmStep(Text("SLURM_JOB_ID"), procId, tasks, Number("SLURM_LOCALID", 0), node, nodes, gpus, gpuVariable, here, shared);
    }

    /// <summary><c>2(x3),1</c> → 2, 2, 2, 1: a count per node of the step.</summary>
    static int[] TaskCounts(string counts, int nodes)
    {
        var result = new List<int>();
        foreach (var group in counts.Split(',', StringSplitOptions.TrimEntries))
        {
            var m = System.Text.RegularExpressions.Regex.Match(group, @"^(\d+)(?:\(x(\d+)\))?$");
            if (!m.Success) throw new ConfigException("SLURM_STEP_TASKS_PER_NODE", $"'{counts}' is not a list of counts such as 2(x3),1");
            result.AddRange(Enumerable.Repeat(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 1));
        }
        return result.Count == nodes ? [.. result]
            : throw new ConfigException("SLURM_STEP_TASKS_PER_NODE", $"'{counts}' counts {result.Count} nodes, SLURM_STEP_NODELIST names {nodes}");
    }

    /// <summary>
    /// The devices Slurm gave this task, as <c>training.devices</c> names them (null when it gave none): CUDA numbers
    /// the devices of <c>CUDA_VISIBLE_DEVICES</c> from 0; without it, <c>SLURM_STEP_GPUS</c>'s indices. GPUs every task of
    /// the node sees are refused: each task would train on all of them.
    /// </summary>
    public IReadOnlyList<string>? Devices()
    {
        if (Gpus.Count == 0) return null;
        if (GpusShared)
            throw new ConfigException(GpuVariable, $"the {TasksHere} tasks on {NodeName} all see GPUs {string.Join(",", Gpus)}, so each would train on every one of them; " +
                "give each task its own (srun --gpus-per-task=N) or set training.devices");
        return GpuVariable == "CUDA_VISIBLE_DEVICES" ? Gpus.Select((_, i) => $"cuda:{i}").ToList() : Gpus.Select(g => $"cuda:{g}").ToList();
    }

    /// <summary>This task's address, as <c>--node</c> takes it.</summary>
    public string Node(int portBase) => $"{NodeName}:{Port(portBase, LocalId)}";

    /// <summary>The step's seed nodes, as <c>--seed-nodes</c> takes them.</summary>
    public string SeedNodes(int portBase) => string.Join(",", Nodes.Take(SeedCount).Select(n => $"{n}:{Port(portBase, 0)}"));

    int Port(int portBase, int localId)
    {
        if (portBase is < 1024 or > 65535) throw new ConfigException("--port-base", $"must be between 1024 and 65535, got {portBase}");
        return portBase + localId <= 65535 ? portBase + localId
            : throw new ConfigException("--port-base", $"{portBase} + SLURM_LOCALID {localId} is past port 65535; choose a lower base");
    }

    /// <summary>The step of this process's environment, or null outside srun.</summary>
    public static SlurmStep? OfThisProcess() => Read(System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? ""));

    /// <summary>This task's options where none were given: a cluster of the step's tasks when it has more than one (found
    /// through <paramref name="discovery"/> when given, else around the step's seeds). An explicit option wins; one that
    /// contradicts the step is refused naming both.</summary>
    public (string? Node, string? SeedNodes, int? MinNodes) Options(string? node, string? seedNodes, int? minNodes, int portBase,
        string? discovery = null, int? managementPort = null)
    {
        if (minNodes > Tasks)
            throw new ConfigException("--min-nodes", $"waits for {minNodes} nodes, but the Slurm step has {Tasks} tasks (SLURM_STEP_NUM_TASKS / SLURM_NTASKS): training would never start");
        if (managementPort is not null && TasksHere > 1)
            throw new ConfigException("--management-port", $"the step's {TasksHere} tasks on {NodeName} (SLURM_STEP_TASKS_PER_NODE) would all bind port {managementPort}; leave it unset (each task's is its port + {NodeOptions.ManagementPortOffset})");
        if (Tasks == 1) return (node, seedNodes, minNodes);
        return (node ?? Node(portBase), seedNodes ?? (discovery is null ? SeedNodes(portBase) : null), minNodes ?? Tasks);
    }

    /// <summary>Refuses, before the actor system tries, a port another process on this machine holds: the task's, and its
    /// management endpoint's unless <paramref name="managementPort"/> names it.</summary>
    public void RequirePortFree(int portBase, int? managementPort = null)
    {
        int port = Port(portBase, LocalId);
        if (!IsFree(port))
            throw new ConfigException("--port-base", $"port {port} (--port-base {portBase} + SLURM_LOCALID {LocalId}) is in use on {NodeName}; choose another --port-base for every task");
        if (managementPort is null && port + NodeOptions.ManagementPortOffset <= 65535 && !IsFree(port + NodeOptions.ManagementPortOffset))
            throw new ConfigException("--port-base", $"port {port + NodeOptions.ManagementPortOffset} (the management endpoint's: --port-base {portBase} + SLURM_LOCALID {LocalId} + {NodeOptions.ManagementPortOffset}) is in use on {NodeName}; choose another --port-base for every task");
    }

    static bool IsFree(int port)
    {
        try
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, port);
            probe.Start();
            probe.Stop();
            return true;
        }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    /// <summary>What was read, for <c>info</c> and the start of <c>train</c>.</summary>
    public string Describe(int portBase) =>
        $"slurm: job {JobId}, task {ProcId} of {Tasks} (local {LocalId} on {NodeName}), step nodes {string.Join(",", Nodes)}; " +
        $"--node {Node(portBase)}, --seed-nodes {SeedNodes(portBase)}, --min-nodes {Tasks}, management port {Port(portBase, LocalId) + NodeOptions.ManagementPortOffset}" +
        (Gpus.Count > 0 ? $"; GPUs given: {string.Join(",", Gpus)}" : "; no GPUs given");
}
