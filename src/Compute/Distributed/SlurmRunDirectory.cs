namespace ActorTraining.Compute.Distributed;

/// <summary>
/// Whether the step's nodes share the run directory, as a cluster run needs (one journal's secret, one set of
/// checkpoints). Each task leaves a mark, <c>.slurm/JOB/NODE.PROCID</c>, and the check passes once a mark of another
/// node shows; a step on one node has nothing to check. The check runs beside training rather than before it, so a
/// network filesystem's attribute caching (tens of seconds) delays nothing when the directory is shared.
/// </summary>
public static class SlurmRunDirectory
{
    /// <summary>How long a task waits for another node's mark before it calls the directory unshared.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>Leaves this task's mark and watches for another node's: null once one shows (or the step has one node),
    /// else, after <paramref name="limit"/>, the line that says the directory is not shared.</summary>
    public static async Task<string?> Watch(SlurmStep step, string runDir, TimeSpan limit, CancellationToken cancel = default)
    {
        if (step.Nodes.Count < 2) return null;
        var marks = Path.Combine(runDir, ".slurm", step.JobId);
        Directory.CreateDirectory(marks);
        File.WriteAllText(Path.Combine(marks, $"{step.NodeName}.{step.ProcId}"), "");
        var others = step.Nodes.Where(n => n != step.NodeName).ToHashSet();
        var deadline = DateTime.UtcNow + limit;
        while (!cancel.IsCancellationRequested)
        {
            if (Directory.EnumerateFiles(marks).Select(Path.GetFileName).Any(f => others.Contains(f![..f!.LastIndexOf('.')]))) return null;
            if (DateTime.UtcNow > deadline)
                return $"--run-dir {runDir} is not shared between the step's nodes (SLURM_STEP_NODELIST {string.Join(",", step.Nodes)}): " +
                       $"in {limit.TotalSeconds:F0} s no task of {string.Join(",", others)} left its mark in {marks}; give a directory every node mounts";
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancel).ContinueWith(_ => { }, TaskContinuationOptions.ExecuteSynchronously);
        }
        return null;
    }
}
