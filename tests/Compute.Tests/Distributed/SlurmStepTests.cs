using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>A task's place in an srun step, read from the variables Slurm sets (as slurmstepd sets them for srun -n 5 on 3 nodes).</summary>
public sealed class SlurmStepTests
{
    static Dictionary<string, string> Task(int procId, int localId, string node, params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["SLURM_JOB_ID"] = "4242", ["SLURM_STEP_NODELIST"] = "gpu[07-08],cpu3", ["SLURM_STEP_NUM_TASKS"] = "5", ["SLURM_NTASKS"] = "5",
            ["SLURM_PROCID"] = procId.ToString(), ["SLURM_LOCALID"] = localId.ToString(), ["SLURMD_NODENAME"] = node,
        };
        foreach (var (key, value) in extra) environment[key] = value;
        return environment;
    }

    [Theory]
    [InlineData("node1", "node1")]
    [InlineData("gpu[07-08],cpu3", "gpu07 gpu08 cpu3")]
    [InlineData("n[1-3,10]", "n1 n2 n3 n10")]
    [InlineData("n[008-011]", "n008 n009 n010 n011")]
    [InlineData("r[1-2]n[1-2],login", "r1n1 r1n2 r2n1 r2n2 login")]
    public void HostlistsExpandAsSlurmWritesThem(string list, string expected) =>
        Assert.Equal(expected.Split(' '), SlurmHostlist.Expand(list, "SLURM_STEP_NODELIST"));

    [Theory]
    [InlineData("n[1-3", "unbalanced brackets")]
    [InlineData("n[a-b]", "not a list of numbers and ranges")]
    [InlineData("n[5-1]", "runs backwards")]
    [InlineData("n[[1-2]]", "unbalanced brackets")]
    [InlineData(",", "names no node")]
    public void AMalformedHostlistIsOneLineNamingTheVariable(string list, string reason)
    {
        var error = Assert.Throws<ConfigException>(() => SlurmHostlist.Expand(list, "SLURM_STEP_NODELIST"));
        Assert.Equal("SLURM_STEP_NODELIST", error.Key);
        Assert.Contains(reason, error.Reason);
    }

    [Fact]
    public void EveryTaskListensOnTheBasePlusItsLocalIndexAndNamesTheSameSeeds()
    {
        var tasks = new[] { Task(0, 0, "gpu07"), Task(1, 1, "gpu07"), Task(2, 0, "gpu08"), Task(3, 1, "gpu08"), Task(4, 0, "cpu3") }
            .Select(e => SlurmStep.Read(e)!).ToList();
        Assert.Equal(["gpu07:4053", "gpu07:4054", "gpu08:4053", "gpu08:4054", "cpu3:4053"], tasks.Select(t => t.Node(4053)));
        Assert.All(tasks, t => Assert.Equal("gpu07:4053,gpu08:4053,cpu3:4053", t.SeedNodes(4053)));
        Assert.All(tasks, t => Assert.Equal((t.Node(4053), "gpu07:4053,gpu08:4053,cpu3:4053", (int?)5), t.Options(null, null, null, 4053)));
        Assert.Equal("gpu08:9001", tasks[3].Node(9000));
    }

    [Fact]
    public void WhatIsGivenExplicitlyWinsAndWhatContradictsTheStepIsRefused()
    {
        var task = SlurmStep.Read(Task(3, 1, "gpu08"))!;
        Assert.Equal(("10.0.0.8:5000", "10.0.0.7:5000", (int?)2), task.Options("10.0.0.8:5000", "10.0.0.7:5000", 2, 4053));
        var more = Assert.Throws<ConfigException>(() => task.Options(null, null, 6, 4053));
        Assert.Equal("--min-nodes", more.Key);
        Assert.Contains("the Slurm step has 5 tasks", more.Reason);
        var high = Assert.Throws<ConfigException>(() => task.Node(65535));
        Assert.Equal("--port-base", high.Key);
        Assert.Contains("65535 + SLURM_LOCALID 1 is past port 65535", high.Reason);
    }

    [Fact]
    public void WithDiscoveryNoSeedsAreDerivedAndAManagementPortSharedByTheTasksOfANodeIsRefused()
    {
        var task = SlurmStep.Read(Task(3, 1, "gpu08", ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1")))!;
        Assert.Equal(("gpu08:4054", (string?)null, (int?)5), task.Options(null, null, null, 4053, discovery: "kubernetes"));
        Assert.Contains("management port 8559", task.Describe(4053));
        var shared = Assert.Throws<ConfigException>(() => task.Options(null, null, null, 4053, managementPort: 8558));
        Assert.Equal("--management-port", shared.Key);
        Assert.Contains("the step's 2 tasks on gpu08 (SLURM_STEP_TASKS_PER_NODE) would all bind port 8558", shared.Reason);
        var alone = SlurmStep.Read(Task(4, 0, "cpu3", ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1")))!;
        Assert.Equal(("cpu3:4053", "gpu07:4053,gpu08:4053,cpu3:4053", (int?)5), alone.Options(null, null, null, 4053, managementPort: 8558));
    }

    [Fact]
    public void ARunDirectoryTheStepsNodesDoNotShareIsOneLineNamingIt()
    {
        var dir = Directory.CreateTempSubdirectory("slurm-rundir-").FullName;
        try
        {
            var task = SlurmStep.Read(Task(3, 1, "gpu08"))!;
            var said = SlurmRunDirectory.Watch(task, dir, TimeSpan.FromSeconds(1)).Result;
            Assert.NotNull(said);
            Assert.StartsWith($"--run-dir {dir} is not shared between the step's nodes (SLURM_STEP_NODELIST gpu07,gpu08,cpu3)", said);
            Assert.Contains("no task of gpu07,cpu3 left its mark", said);
            Assert.True(File.Exists(Path.Combine(dir, ".slurm", "4242", "gpu08.3")));
            // a task of another node has left its mark: shared
            var other = SlurmStep.Read(Task(4, 0, "cpu3"))!;
            Assert.Null(SlurmRunDirectory.Watch(other, dir, TimeSpan.FromSeconds(1)).Result);
            // a step on one node has nothing to check
            var alone = SlurmStep.Read(Task(0, 0, "cpu3", ("SLURM_STEP_NODELIST", "cpu3")))!;
            Assert.Null(SlurmRunDirectory.Watch(alone, Path.Combine(dir, "elsewhere"), TimeSpan.FromSeconds(1)).Result);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void OneTaskIsANodeAloneAndOutsideSrunNothingIsRead()
    {
        var alone = SlurmStep.Read(Task(0, 0, "cpu3", ("SLURM_STEP_NODELIST", "cpu3"), ("SLURM_STEP_NUM_TASKS", "1"), ("SLURM_NTASKS", "1")))!;
        Assert.Equal((null, null, null), alone.Options(null, null, null, 4053));
        var batchScript = Task(0, 0, "cpu3");
        batchScript.Remove("SLURM_STEP_NODELIST"); // an sbatch script itself, not a task of srun
        Assert.Null(SlurmStep.Read(batchScript));
    }

    [Fact]
    public void TheGpusSlurmGaveTheTaskAreRead()
    {
        Assert.Equal(["2", "3"], SlurmStep.Read(Task(0, 0, "gpu07", ("CUDA_VISIBLE_DEVICES", "2,3"), ("SLURM_STEP_GPUS", "0,1,2,3")))!.Gpus);
        Assert.Equal(["0", "1"], SlurmStep.Read(Task(0, 0, "gpu07", ("SLURM_STEP_GPUS", "0,1")))!.Gpus);
        Assert.Empty(SlurmStep.Read(Task(0, 0, "gpu07"))!.Gpus);
    }

    [Fact]
    public void TheTasksDevicesAreTheGpusSlurmGaveIt()
    {
        // --gpus-per-task=2: CUDA_VISIBLE_DEVICES holds the task's own, which CUDA numbers from 0
        var perTask = Task(1, 1, "gpu07", ("CUDA_VISIBLE_DEVICES", "2,3"), ("SLURM_STEP_GPUS", "0,1,2,3"), ("SLURM_GPUS_PER_TASK", "2"),
            ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1"));
        Assert.Equal(["cuda:0", "cuda:1"], SlurmStep.Read(perTask)!.Devices());
        // a task bound to one of the node's GPUs (--gpu-bind) sees fewer than the step has
        Assert.Equal(["cuda:0"], SlurmStep.Read(Task(1, 1, "gpu07", ("CUDA_VISIBLE_DEVICES", "1"), ("SLURM_STEP_GPUS", "0,1"), ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1")))!.Devices());
        Assert.Equal(["cuda:0", "cuda:1"], SlurmStep.Read(Task(4, 0, "cpu3", ("SLURM_STEP_GPUS", "0,1"), ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1")))!.Devices());
        Assert.Null(SlurmStep.Read(Task(0, 0, "gpu07"))!.Devices());
    }

    [Fact]
    public void TwoTasksOfANodeSeeingTheSameGpusAreRefused()
    {
        // srun --gpus=2 -n 5 on 3 nodes: gpu07's two tasks both see both GPUs
        var step = SlurmStep.Read(Task(1, 1, "gpu07", ("CUDA_VISIBLE_DEVICES", "0,1"), ("SLURM_STEP_GPUS", "0,1"), ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1")))!;
        Assert.Equal(2, step.TasksHere);
        var error = Assert.Throws<ConfigException>(() => step.Devices());
        Assert.Equal("CUDA_VISIBLE_DEVICES", error.Key);
        Assert.Contains("the 2 tasks on gpu07 all see GPUs 0,1", error.Reason);
        var counts = Assert.Throws<ConfigException>(() => SlurmStep.Read(Task(0, 0, "gpu07", ("SLURM_STEP_TASKS_PER_NODE", "2(x3),1"))));
        Assert.Equal("SLURM_STEP_TASKS_PER_NODE", counts.Key);
        Assert.Contains("counts 4 nodes, SLURM_STEP_NODELIST names 3", counts.Reason);
    }

    [Theory]
    [InlineData("SLURM_PROCID", "x", "SLURM_PROCID", "whole number")]
    [InlineData("SLURM_PROCID", "5", "SLURM_PROCID", "not below the step's 5 tasks")]
    [InlineData("SLURMD_NODENAME", "other", "SLURMD_NODENAME", "'other' is not one of SLURM_STEP_NODELIST's nodes")]
    [InlineData("SLURM_LOCALID", "", "SLURM_LOCALID", "is not set")]
    public void VariablesThatDisagreeAreOneLineNamingTheVariable(string variable, string value, string key, string reason)
    {
        var error = Assert.Throws<ConfigException>(() => SlurmStep.Read(Task(0, 0, "gpu07", (variable, value))));
        Assert.Equal(key, error.Key);
        Assert.Contains(reason, error.Reason);
    }
}
