using ActorTraining.Actors;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

public class RunStateTests
{
    static readonly PhasePlan[] Plan =
    [
        new(0, "pool", 4, "max", 2, 1e-3, 10, 64),
        new(1, "pool", 1, "max", 1, 1e-3, 10, 256),
    ];

    static CheckpointCommitted Ckpt(int phase, int epoch, long step, long pos, bool end) =>
        new($"/run/checkpoints/p{phase}-e{epoch}-s{step}.ckpt", $"sha{phase}{epoch}{step}", phase, epoch, step, pos, end,
            1.5, 0.25, 10.0 * pos, pos, 1e9, 0, 1e-3);

    static (RunState State, List<ISupervisorEvent> Events) Run(RunState state, params object[] commands)
    {
        var all = new List<ISupervisorEvent>();
        foreach (var c in commands)
        {
            var events = state.Process(c);
            state = state.ApplyAll(events);
            all.AddRange(events);
        }
        return (state, all);
    }

    [Fact]
    public void StartingAFreshRunRecordsTheConfigAndStartsPhaseZeroFromScratch()
    {
        var (state, events) = Run(RunState.Empty, new StartRun("h1", Plan));
        Assert.Equal([typeof(RunStarted), typeof(PhaseStarted)], events.Select(e => e.GetType()));
        var order = state.TrainOrder()!;
        Assert.Equal(0, order.Phase.Index);
        Assert.Null(order.Resume);
        Assert.Null(order.TransferFrom);
    }

    [Fact]
    public void RestartingWithTheSameConfigEmitsNothingAndADifferentOneIsRefused()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan));
        Assert.Empty(state.Process(new StartRun("h1", Plan)));
        var ex = Assert.Throws<RunConfigMismatchException>(() => state.Process(new StartRun("h2", Plan)));
        Assert.Contains("different configuration", ex.Message);
    }

    [Fact]
    public void ResumeContinuesFromTheLastCommittedCheckpointOfTheCurrentPhase()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan),
            new CommitCheckpoint(Ckpt(0, 0, 4, 32, false)), new CommitCheckpoint(Ckpt(0, 0, 8, 64, false)));
        var order = state.TrainOrder()!;
        Assert.Equal(8, order.Resume!.Step);
        Assert.Equal(64, order.Resume.DataPosition);
    }

    [Fact]
    public void AStaleOrRepeatedCommitIsIgnored()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 64, false)));
        Assert.Empty(state.Process(new CommitCheckpoint(Ckpt(0, 0, 8, 64, false))));
        Assert.Empty(state.Process(new CommitCheckpoint(Ckpt(0, 0, 4, 32, false))));
        Assert.Empty(state.Process(new CommitCheckpoint(Ckpt(1, 0, 4, 32, false))));
    }

    [Fact]
    public void TheEpochEndCheckpointIsCommittedAfterAMidEpochOneOfTheSameLastStep()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, false)));
        Assert.Single(state.Process(new CommitCheckpoint(Ckpt(0, 0, 8, 100, true))));
    }

    [Fact]
    public void EpochEndIsEvaluatedThenTheLastEpochCompletesThePhaseAndStartsTheNextWithATransfer()
    {
        var (state, events) = Run(RunState.Empty, new StartRun("h1", Plan),
            new CommitCheckpoint(Ckpt(0, 0, 8, 100, true)));
        Assert.Single(state.PendingEvaluations());
        (state, events) = Run(state, new EvaluationDone(0, 0, new Dictionary<string, double> { ["accuracy"] = 0.5 }));
        var epoch = Assert.IsType<EpochCompleted>(Assert.Single(events));
        Assert.Equal(0.5, epoch.Metrics["accuracy"]);
        Assert.Equal(10.0, epoch.Metrics["train_loss"]);
        Assert.Equal(1e9, epoch.Flops);
        Assert.Empty(state.PendingEvaluations());
        Assert.Equal(0, state.TrainOrder()!.Resume!.Epoch); // epoch 1 continues from epoch 0's end

        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 1, 16, 100, true)));
        Assert.Null(state.TrainOrder()); // phase trained, evaluation outstanding
        (state, events) = Run(state, new EvaluationDone(0, 1, new Dictionary<string, double> { ["accuracy"] = 0.6 }));
        Assert.Equal([typeof(EpochCompleted), typeof(PhaseCompleted), typeof(PhaseStarted)], events.Select(e => e.GetType()));
        var order = state.TrainOrder()!;
        Assert.Equal(1, order.Phase.Index);
        Assert.Null(order.Resume);
        Assert.Equal("/run/checkpoints/p0-e1-s16.ckpt", order.TransferFrom!.Path);

        (state, _) = Run(state, new CommitCheckpoint(Ckpt(1, 0, 24, 100, true)));
        (state, events) = Run(state, new EvaluationDone(1, 0, new Dictionary<string, double> { ["accuracy"] = 0.7 }));
        var done = Assert.IsType<RunCompleted>(events.Last());
        Assert.Equal("/run/checkpoints/p1-e0-s24.ckpt", done.FinalCheckpoint);
        Assert.True(state.Completed);
        Assert.Null(state.TrainOrder());
        Assert.Empty(state.Process(new EvaluationDone(1, 0, new Dictionary<string, double>())));
    }

    [Fact]
    public void CheckpointFilesGoOnlyAfterANewerCommitAndPhaseFinalsAndPendingEvaluationsStay()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 4, 32, false)));
        Assert.Empty(state.CheckpointsToDelete());
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 8, 100, true)), new CommitCheckpoint(Ckpt(0, 1, 12, 32, false)));
        // epoch 0's end waits for its evaluation; the mid-epoch one before it is superseded
        Assert.Equal(["/run/checkpoints/p0-e0-s4.ckpt"], state.CheckpointsToDelete());
        (state, _) = Run(state, new EvaluationDone(0, 0, new Dictionary<string, double>()),
            new CommitCheckpoint(Ckpt(0, 1, 16, 100, true)), new EvaluationDone(0, 1, new Dictionary<string, double>()),
            new CommitCheckpoint(Ckpt(1, 0, 20, 32, false)));
        var keep = state.CheckpointsToKeep();
        Assert.Contains("/run/checkpoints/p0-e1-s16.ckpt", keep); // phase 0's final weights
        Assert.Contains("/run/checkpoints/p1-e0-s20.ckpt", keep); // the newest
        Assert.Contains("/run/checkpoints/p0-e0-s8.ckpt", state.CheckpointsToDelete());
    }

    [Fact]
    public void ACrashAfterAPhaseStartedButBeforeItsFirstCommitTransfersAgainFromThePreviousFinal()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, true)),
            new EvaluationDone(0, 0, new Dictionary<string, double>()), new CommitCheckpoint(Ckpt(0, 1, 16, 100, true)),
            new EvaluationDone(0, 1, new Dictionary<string, double>()));
        // replay from the event list gives the same state and the same order
        var replayed = RunState.Empty.ApplyAll(Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, true)),
            new EvaluationDone(0, 0, new Dictionary<string, double>()), new CommitCheckpoint(Ckpt(0, 1, 16, 100, true)),
            new EvaluationDone(0, 1, new Dictionary<string, double>())).Events);
        Assert.Equal(state.TrainOrder(), replayed.TrainOrder());
        Assert.Equal("/run/checkpoints/p0-e1-s16.ckpt", replayed.TrainOrder()!.TransferFrom!.Path);
    }

    [Fact]
    public void FaultsRestartUntilTheBudgetIsSpentAnEvaluatedEpochOrANewProcessResetsIt()
    {
        var fault = new TrainingFaulted("trainer", "boom");
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 3, 24, false)));
        for (int k = 1; k <= 2; k++)
        {
            var restart = Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(fault, maxRestarts: 2)));
            Assert.Equal((k, k, "trainer", "boom"), (restart.Attempt, restart.Generation, restart.Component, restart.Cause));
            state = state.Apply(restart);
            Assert.Equal(k, state.TrainOrder()!.Generation);
            Assert.Equal(3, state.TrainOrder()!.Resume!.Step); // from the last committed checkpoint
        }
        var spent = Assert.IsType<RestartBudgetSpent>(Assert.Single(state.ProcessFault(fault, maxRestarts: 2)));
        Assert.Equal(2, spent.Restarts);
        state = state.Apply(spent);
        Assert.Empty(state.ProcessFault(fault, maxRestarts: 2)); // given up: nothing more

        // a new process resets the budget, not the generation
        (state, var events) = Run(state, new StartRun("h1", Plan));
        Assert.IsType<RestartBudgetReset>(Assert.Single(events));
        Assert.Equal((0, 2, (RestartBudgetSpent?)null), (state.RestartsInARow, state.Generation, state.GaveUp));
        Assert.Empty(state.Process(new StartRun("h1", Plan))); // nothing to reset

        // an evaluated epoch resets the count too
        state = state.Apply(Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(fault, maxRestarts: 2))));
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 8, 64, true)),
            new EvaluationDone(0, 0, new Dictionary<string, double> { ["accuracy"] = 0.5 }));
        Assert.Equal(0, state.RestartsInARow);
        Assert.Equal(4, Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(fault, maxRestarts: 2))).Generation);
    }
}
