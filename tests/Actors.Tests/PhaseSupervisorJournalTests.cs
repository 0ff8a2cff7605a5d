using ActorTraining.Compute.Compression;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Actors;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// The supervisor against a real SQLite journal in a run directory, a test probe as its one rank: a generation is
/// formed and journaled, commits of that generation persist (and only those), stop the system, recover — the next
/// generation resumes from the last commit; a different configuration is refused.
/// </summary>
public sealed class PhaseSupervisorJournalTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly string _runDir = Directory.CreateTempSubdirectory("supervisor-journal-").FullName;

    static readonly PhasePlan[] Plan = [new(0, new Compression(CompressionMethod.Pool, 2, PoolingKind.Max), 2, 1e-3, 0, 128), new(1, new Compression(CompressionMethod.Pool, 1, PoolingKind.Max), 1, 1e-3, 0, 256)];

    RunSettings Settings()
    {
        var entries = Enumerable.Range(0, 100).Select(i => new DatasetEntry($"clip{i}.wav", ["/m/a"])).ToList();
        return new RunSettings(ExperimentConfig.Default(), 0, entries, entries.Take(4).ToList(), new LabelSet(["/m/a"], ["a"]),
            Path.Combine(_runDir, "checkpoints"), 1);
    }

    CheckpointCommitted Ckpt(long step, long pos, bool end)
    {
        var path = Path.Combine(_runDir, $"p0-s{step}.ckpt");
        File.WriteAllText(path, "weights");
        return new(path, "abc", 0, 0, step, pos, end, 2.0, 0.5, 3.0, pos, 1e6, 1, 1e-3);
    }

    static RankRoster RosterOf(IActorRef rank) =>
        new([new RankRegistration(rank, new RankAddress("test:1", 0, "cpu", "127.0.0.1:1"), null)]);

    [Fact]
    public void CommittedStateSurvivesARestartAndADifferentConfigIsRefused()
    {
        using (var first = new TestKit(TestConfig.ForRun(_runDir), "journal", output))
        {
            var rank = first.CreateTestProbe();
            var listener = first.CreateTestProbe();
            var sup = first.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), Settings(), listener.Ref, new RecoverySettings(3, 0.1, 300)));
            sup.Tell(new StartRun("hash-1", Plan));
            sup.Tell(RosterOf(rank.Ref));
            var join = rank.ExpectMsg<JoinGeneration>(TimeSpan.FromSeconds(20));
            Assert.Equal(("fresh", 0, 1), (join.Start.Kind, join.Index, join.Members.Count));
            rank.Send(sup, new CommitCheckpoint(Ckpt(3, 24, false), join.Generation));
            rank.Send(sup, new CommitCheckpoint(Ckpt(9, 72, false), join.Generation + 1)); // not its generation: ignored
            sup.Tell(new CommitCheckpoint(Ckpt(12, 96, false), join.Generation));          // not a member: ignored
            rank.Send(sup, new CommitCheckpoint(Ckpt(6, 48, false), join.Generation));
            listener.FishForMessage(m => m is CheckpointCommitted { Step: 6 }, TimeSpan.FromSeconds(20));
            Assert.False(File.Exists(Path.Combine(_runDir, "p0-s3.ckpt"))); // superseded after the newer commit
            Assert.True(File.Exists(Path.Combine(_runDir, "p0-s6.ckpt")));
            var state = sup.Ask<RunState>(GetRunState.Instance, TimeSpan.FromSeconds(10)).Result;
            Assert.Equal([3L, 6L], state.Checkpoints.Select(c => c.Step));
            Assert.Equal(join.Generation, Assert.Single(state.Generations).Generation);
        }
        Assert.True(File.Exists(Path.Combine(_runDir, PersistenceConfig.JournalFile)));

        using (var second = new TestKit(TestConfig.ForRun(_runDir), "journal", output))
        {
            var rank = second.CreateTestProbe();
            var listener = second.CreateTestProbe();
            var sup = second.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), Settings(), listener.Ref, new RecoverySettings(3, 0.1, 300)));
            sup.Tell(new StartRun("hash-1", Plan));
            sup.Tell(RosterOf(rank.Ref));
            var join = rank.ExpectMsg<JoinGeneration>(TimeSpan.FromSeconds(20));
            Assert.Equal("checkpoint", join.Start.Kind);
            Assert.Equal(1, join.Generation); // numbers only grow across processes
            Assert.Equal(6, join.Start.Resume!.Step);
            Assert.Equal(48, join.Start.Resume.DataPosition);
            Assert.Equal(0, join.Phase.Index);

            var other = second.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), Settings(), listener.Ref, new RecoverySettings(3, 0.1, 300)), "other");
            // same persistence id cannot run twice at once in one system: stop the first before asking again
            second.Watch(sup);
            sup.Tell(PoisonPill.Instance);
            second.ExpectTerminated(sup, TimeSpan.FromSeconds(10));
            other.Tell(new StartRun("hash-2", Plan));
            var failed = listener.FishForMessage<RunFailed>(_ => true, TimeSpan.FromSeconds(20));
            Assert.Contains("different configuration", failed.Reason);
        }
    }

    /// <summary>
    /// Two supervisors of one run at once, as when a cut-off coordinator still believes it leads while its successor took
    /// over: each journal write names the next sequence number, so whichever writes second finds it taken, and neither
    /// acknowledges, deletes nor forms anything on a write that failed. Both orders: the stale one writes after the
    /// successor, and before it.
    /// </summary>
    [Fact]
    public void OfTwoSupervisorsOfOneRunOnlyTheOneThatReadEverythingCanWrite()
    {
        var recovery = new RecoverySettings(3, 0.1, 300);
        using var a = new TestKit(TestConfig.ForRun(_runDir), "stale", output);
        var rankA = a.CreateTestProbe();
        var listenerA = a.CreateTestProbe();
        var stale = a.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), Settings(), listenerA.Ref, recovery));
        stale.Tell(new StartRun("hash-1", Plan));
        stale.Tell(RosterOf(rankA.Ref));
        var g0 = rankA.ExpectMsg<JoinGeneration>(TimeSpan.FromSeconds(20));
        rankA.Send(stale, new CommitCheckpoint(Ckpt(3, 24, false), g0.Generation));
        rankA.ExpectMsg<CommitAcknowledged>(TimeSpan.FromSeconds(20));

        using var b = new TestKit(TestConfig.ForRun(_runDir), "successor", output);
        var rankB = b.CreateTestProbe();
        var listenerB = b.CreateTestProbe();
        IActorRef Successor(string name)
        {
            var s = b.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), Settings(), listenerB.Ref, recovery), name);
            b.Watch(s);
            s.Tell(new StartRun("hash-1", Plan));
            listenerB.FishForMessage(m => m is JournalAvailable, TimeSpan.FromSeconds(20));
            return s;
        }

        // the successor has read the journal (up to step 3); the stale one commits step 6 before the successor forms a generation
        var first = Successor("first");
        rankA.Send(stale, new CommitCheckpoint(Ckpt(6, 48, false), g0.Generation));
        rankA.ExpectMsg<CommitAcknowledged>(TimeSpan.FromSeconds(20));
        first.Tell(RosterOf(rankB.Ref));
        var overtaken = listenerB.FishForMessage<JournalOvertaken>(_ => true, TimeSpan.FromSeconds(30)); // its generation 1 collided
        output.WriteLine(overtaken.Cause);
        b.ExpectTerminated(first, TimeSpan.FromSeconds(10));
        rankB.ExpectNoMsg(TimeSpan.FromMilliseconds(500)); // told to join nothing

        // started again, it reads the stale one's commit and resumes from it
        var successor = Successor("second");
        successor.Tell(RosterOf(rankB.Ref));
        var g1 = rankB.FishForMessage<JoinGeneration>(_ => true, TimeSpan.FromSeconds(30));
        Assert.Equal((g0.Generation + 1, "checkpoint", 6L), (g1.Generation, g1.Start.Kind, g1.Start.Resume!.Step));

        // now the stale one is behind: its commit of step 9 finds the number taken; nothing acknowledged, nothing deleted
        a.Watch(stale);
        rankA.Send(stale, new CommitCheckpoint(Ckpt(9, 72, false), g0.Generation));
        output.WriteLine(listenerA.FishForMessage<JournalOvertaken>(_ => true, TimeSpan.FromSeconds(30)).Cause);
        a.ExpectTerminated(stale, TimeSpan.FromSeconds(10));
        rankA.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.True(File.Exists(Path.Combine(_runDir, "p0-s6.ckpt")), "the checkpoint generation 1 resumed from was deleted");

        rankB.Send(successor, new CommitCheckpoint(Ckpt(12, 96, false), g1.Generation));
        rankB.ExpectMsg<CommitAcknowledged>(TimeSpan.FromSeconds(20));
        var state = successor.Ask<RunState>(GetRunState.Instance, TimeSpan.FromSeconds(10)).Result;
        Assert.Equal([3L, 6L, 12L], state.Checkpoints.Select(c => c.Step));
        Assert.Equal([g0.Generation, g1.Generation], state.Generations.Select(g => g.Generation));
    }

    public void Dispose()
    {
        try { Directory.Delete(_runDir, true); } catch (IOException) { }
    }
}
