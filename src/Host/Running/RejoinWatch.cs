using Akka.Actor;
using Akka.Cluster;
using ActorTraining.Actors;

namespace ActorTraining.Host.Running;

/// <summary>
/// A node the cluster removed (taken for dead: a long pause, a cut link), trying to join it again. Every
/// <see cref="Poll"/> it reads the run's journal: a run that finished meanwhile leaves it nothing to do; while the run
/// goes on, a line every <see cref="SayEvery"/> says how long it has tried (the cluster itself gives up after
/// <c>shutdown-after-unsuccessful-join-seed-nodes</c>, which ends the node in a sentence).
/// </summary>
public static class RejoinWatch
{
    public enum End { Joined, RunFinished }

    static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);
    static readonly TimeSpan SayEvery = TimeSpan.FromSeconds(10);

    /// <param name="runs">The experiment's runs (the curriculum and its comparisons), each journaled by its own supervisor.</param>
    public static async Task<End> Watch(ActorSystem system, string runId, int runs, string runDir, string? postgres, CancellationToken cancel)
    {
        var cluster = Cluster.Get(system);
        var limit = system.Settings.Config.GetTimeSpan("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var said = TimeSpan.Zero;
        while (!cancel.IsCancellationRequested)
        {
            if (cluster.State.Members.Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress) && m.Status == MemberStatus.Up)) return End.Joined;
            if (await Finished(system, runId, runs, runDir, postgres)) return End.RunFinished;
            if (clock.Elapsed - said >= SayEvery)
            {
                said = clock.Elapsed;
                if (said > TimeSpan.Zero) Console.WriteLine($"not back in the cluster after {said.TotalSeconds:F0} s (giving up after {limit.TotalSeconds:F0} s); the run is still going");
            }
            await Task.Delay(Poll, cancel).ContinueWith(_ => { }, TaskContinuationOptions.ExecuteSynchronously);
        }
        return End.Joined;
    }

    /// <summary>Whether every run of the experiment is journaled as completed; a journal that cannot be read now says no.</summary>
    static async Task<bool> Finished(ActorSystem system, string runId, int runs, string runDir, string? postgres)
    {
        try
        {
            for (int r = 0; r < runs; r++)
                if (!(await RecordedRun.Read(system, PhaseSupervisor.IdOf(runId, r), runDir, postgres)).Completed) return false;
            return true;
        }
        catch (JournalUnavailableException) { return false; }
    }
}
