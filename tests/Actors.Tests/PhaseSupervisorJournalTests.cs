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

    public void Dispose()
    {
        try { Directory.Delete(_runDir, true); } catch (IOException) { }
    }
}
