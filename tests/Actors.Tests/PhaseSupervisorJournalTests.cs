using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Actors;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>The supervisor against a real SQLite journal in a run directory: commit, stop the system, recover.</summary>
public sealed class PhaseSupervisorJournalTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly string _runDir = Directory.CreateTempSubdirectory("supervisor-journal-").FullName;

    static readonly PhasePlan[] Plan = [new(0, "pool", 2, "max", 2, 1e-3, 0, 128), new(1, "pool", 1, "max", 1, 1e-3, 0, 256)];

    CheckpointCommitted Ckpt(long step, long pos, bool end)
    {
        var path = Path.Combine(_runDir, $"p0-s{step}.ckpt");
        File.WriteAllText(path, "weights");
        return new(path, "abc", 0, 0, step, pos, end, 2.0, 0.5, 3.0, pos, 1e6, 1, 1e-3);
    }

    [Fact]
    public void CommittedStateSurvivesARestartAndADifferentConfigIsRefused()
    {
        using (var first = new TestKit(PersistenceConfig.ForRun(_runDir), "journal", output))
        {
            var trainer = first.CreateTestProbe();
            var evaluator = first.CreateTestProbe();
            var listener = first.CreateTestProbe();
            var sup = first.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), ForwardTo.Props(trainer.Ref), ForwardTo.Props(evaluator.Ref), listener.Ref, new RecoverySettings(3, 0.1, 300)));
            sup.Tell(new StartRun("hash-1", Plan));
            var order = trainer.ExpectMsg<TrainPhase>(TimeSpan.FromSeconds(20));
            Assert.Null(order.Resume);
            sup.Tell(new CommitCheckpoint(Ckpt(3, 24, false)));
            sup.Tell(new CommitCheckpoint(Ckpt(6, 48, false)));
            listener.FishForMessage(m => m is CheckpointCommitted { Step: 6 }, TimeSpan.FromSeconds(20));
            Assert.False(File.Exists(Path.Combine(_runDir, "p0-s3.ckpt"))); // superseded after the newer commit
            Assert.True(File.Exists(Path.Combine(_runDir, "p0-s6.ckpt")));
        }
        Assert.True(File.Exists(Path.Combine(_runDir, PersistenceConfig.JournalFile)));

        using (var second = new TestKit(PersistenceConfig.ForRun(_runDir), "journal", output))
        {
            var trainer = second.CreateTestProbe();
            var listener = second.CreateTestProbe();
            var sup = second.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), ForwardTo.Props(trainer.Ref), ForwardTo.Props(second.CreateTestProbe().Ref), listener.Ref, new RecoverySettings(3, 0.1, 300)));
            sup.Tell(new StartRun("hash-1", Plan));
            var order = trainer.ExpectMsg<TrainPhase>(TimeSpan.FromSeconds(20));
            Assert.Equal(6, order.Resume!.Step);
            Assert.Equal(48, order.Resume.DataPosition);
            Assert.Equal(0, order.Phase.Index);

            var other = second.Sys.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf("test", 0), ForwardTo.Props(trainer.Ref), ForwardTo.Props(trainer.Ref), listener.Ref, new RecoverySettings(3, 0.1, 300)), "other");
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
