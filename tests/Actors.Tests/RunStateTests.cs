using ActorTraining.Compute.Compression;
using ActorTraining.Actors;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

public class RunStateTests
{
    static readonly PhasePlan[] Plan =
    [
        new(0, new Compression(CompressionMethod.Pool, 4, PoolingKind.Max), 2, 1e-3, 10, 64),
        new(1, new Compression(CompressionMethod.Pool, 1, PoolingKind.Max), 1, 1e-3, 10, 256),
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
            new CommitCheckpoint(Ckpt(0, 0, 4, 32, false), 0), new CommitCheckpoint(Ckpt(0, 0, 8, 64, false), 0));
        var order = state.TrainOrder()!;
        Assert.Equal(8, order.Resume!.Step);
        Assert.Equal(64, order.Resume.DataPosition);
    }

    [Fact]
    public void AStaleOrRepeatedCommitIsIgnored()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 64, false), 0));
        Assert.Empty(state.Process(new CommitCheckpoint(Ckpt(0, 0, 8, 64, false), 0)));
        Assert.Empty(state.Process(new CommitCheckpoint(Ckpt(0, 0, 4, 32, false), 0)));
        Assert.Empty(state.Process(new CommitCheckpoint(Ckpt(1, 0, 4, 32, false), 0)));
    }

    [Fact]
    public void TheEpochEndCheckpointIsCommittedAfterAMidEpochOneOfTheSameLastStep()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, false), 0));
        Assert.Single(state.Process(new CommitCheckpoint(Ckpt(0, 0, 8, 100, true), 0)));
    }

    [Fact]
    public void ThePhasesLastEpochEndStartsTheNextPhaseAtOnceAndTheRunCompletesWhenEveryEpochIsScored()
    {
        var (state, events) = Run(RunState.Empty, new StartRun("h1", Plan),
            new CommitCheckpoint(Ckpt(0, 0, 8, 100, true), 0));
        Assert.Single(state.PendingEvaluations());
        (state, events) = Run(state, new EvaluationDone(0, 0, new Dictionary<string, double> { ["accuracy"] = 0.5 }));
        var epoch = Assert.IsType<EpochCompleted>(Assert.Single(events));
        Assert.Equal(0.5, epoch.Metrics["accuracy"]);
        Assert.Equal(10.0, epoch.Metrics["train_loss"]);
        Assert.Equal(1e9, epoch.Flops);
        Assert.Empty(state.PendingEvaluations());
        Assert.Equal(0, state.TrainOrder()!.Resume!.Epoch); // epoch 1 continues from epoch 0's end

        // the last epoch's end moves the run on without waiting for that epoch's evaluation
        (state, events) = Run(state, new CommitCheckpoint(Ckpt(0, 1, 16, 100, true), 0));
        Assert.Equal([typeof(CheckpointCommitted), typeof(PhaseCompleted), typeof(PhaseStarted)], events.Select(e => e.GetType()));
        var order = state.TrainOrder()!;
        Assert.Equal(1, order.Phase.Index);
        Assert.Null(order.Resume);
        Assert.Equal("/run/checkpoints/p0-e1-s16.ckpt", order.TransferFrom!.Path);
        Assert.Equal(1, Assert.Single(state.PendingEvaluations()).Epoch);
        Assert.Contains("/run/checkpoints/p0-e1-s16.ckpt", state.CheckpointsToKeep());

        // the final phase trained while phase 0's last epoch is still unscored: the run waits for that score
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(1, 0, 24, 100, true), 0));
        Assert.Null(state.TrainOrder());
        (state, events) = Run(state, new EvaluationDone(1, 0, new Dictionary<string, double> { ["accuracy"] = 0.7 }));
        Assert.IsType<EpochCompleted>(Assert.Single(events));
        Assert.False(state.Completed);
        (state, events) = Run(state, new EvaluationDone(0, 1, new Dictionary<string, double> { ["accuracy"] = 0.6 }));
        Assert.Equal([typeof(EpochCompleted), typeof(PhaseCompleted), typeof(RunCompleted)], events.Select(e => e.GetType()));
        var done = Assert.IsType<RunCompleted>(events.Last());
        Assert.Equal("/run/checkpoints/p1-e0-s24.ckpt", done.FinalCheckpoint);
        Assert.True(state.Completed);
        Assert.Null(state.TrainOrder());
        Assert.Empty(state.Process(new EvaluationDone(1, 0, new Dictionary<string, double>())));
    }

    [Fact]
    public void AJournalWrittenWhenPhasesWaitedForTheirLastEvaluationStillMovesOn()
    {
        // the events an earlier build journaled: the last epoch's end committed alone, the phase moved on at its score
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, true), 0),
            new EvaluationDone(0, 0, new Dictionary<string, double>()));
        state = state.Apply(Ckpt(0, 1, 16, 100, true));
        Assert.Null(state.TrainOrder());
        var (after, events) = Run(state, new EvaluationDone(0, 1, new Dictionary<string, double>()));
        Assert.Equal([typeof(EpochCompleted), typeof(PhaseCompleted), typeof(PhaseStarted)], events.Select(e => e.GetType()));
        Assert.Equal("/run/checkpoints/p0-e1-s16.ckpt", after.TrainOrder()!.TransferFrom!.Path);
    }

    [Fact]
    public void CheckpointFilesGoOnlyAfterANewerCommitAndPhaseFinalsAndPendingEvaluationsStay()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 4, 32, false), 0));
        Assert.Empty(state.CheckpointsToDelete());
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 8, 100, true), 0), new CommitCheckpoint(Ckpt(0, 1, 12, 32, false), 0));
        // epoch 0's end waits for its evaluation; the mid-epoch one before it is superseded
        Assert.Equal(["/run/checkpoints/p0-e0-s4.ckpt"], state.CheckpointsToDelete());
        (state, _) = Run(state, new EvaluationDone(0, 0, new Dictionary<string, double>()),
            new CommitCheckpoint(Ckpt(0, 1, 16, 100, true), 0), new EvaluationDone(0, 1, new Dictionary<string, double>()),
            new CommitCheckpoint(Ckpt(1, 0, 20, 32, false), 0));
        var keep = state.CheckpointsToKeep();
        Assert.Contains("/run/checkpoints/p0-e1-s16.ckpt", keep); // phase 0's final weights
        Assert.Contains("/run/checkpoints/p1-e0-s20.ckpt", keep); // the newest
        Assert.Contains("/run/checkpoints/p0-e0-s8.ckpt", state.CheckpointsToDelete());
    }

    [Fact]
    public void ACrashAfterAPhaseStartedButBeforeItsFirstCommitTransfersAgainFromThePreviousFinal()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, true), 0),
            new EvaluationDone(0, 0, new Dictionary<string, double>()), new CommitCheckpoint(Ckpt(0, 1, 16, 100, true), 0),
            new EvaluationDone(0, 1, new Dictionary<string, double>()));
        // replay from the event list gives the same state and the same order
        var replayed = RunState.Empty.ApplyAll(Run(RunState.Empty, new StartRun("h1", Plan), new CommitCheckpoint(Ckpt(0, 0, 8, 100, true), 0),
            new EvaluationDone(0, 0, new Dictionary<string, double>()), new CommitCheckpoint(Ckpt(0, 1, 16, 100, true), 0),
            new EvaluationDone(0, 1, new Dictionary<string, double>())).Events);
        Assert.Equal(state.TrainOrder(), replayed.TrainOrder());
        Assert.Equal("/run/checkpoints/p0-e1-s16.ckpt", replayed.TrainOrder()!.TransferFrom!.Path);
    }

    [Fact]
    public void FaultsRestartUntilTheBudgetIsSpentAnEvaluatedEpochOrANewProcessResetsIt()
    {
        var fault = new TrainingFaulted("trainer", "boom");
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan));
        state = state.Apply(state.FormGeneration([(Rank(0), null)], 0, EpochSize, fromJournal: false)!.Value.Event); // generation 0
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 3, 24, false), 0));
        for (int k = 1; k <= 2; k++)
        {
            var restart = Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(fault, maxRestarts: 2)));
            Assert.Equal((k, k, "trainer", "boom"), (restart.Attempt, restart.Generation, restart.Component, restart.Cause));
            state = state.Apply(restart);
            Assert.Equal(k + 1, state.TrainOrder()!.Generation); // the generation formed after the restart
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
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 8, 64, true), 0),
            new EvaluationDone(0, 0, new Dictionary<string, double> { ["accuracy"] = 0.5 }));
        Assert.Equal(0, state.RestartsInARow);
        Assert.Equal(4, Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(fault, maxRestarts: 2))).Generation);
    }

    [Fact]
    public void ANonFiniteStepRestartsOnceAndTheSameStepGoingNonFiniteAgainGivesUpNamingItAnotherStepRestartsAgain()
    {
        static TrainingFaulted NonFinite(long step) => new("trainer", $"phase 1, epoch 1, step {step}: the loss is NaN; the update was not applied",
            NonFinite: new NonFiniteStep(0, 0, step, "loss", double.NaN));
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan));
        state = state.Apply(state.FormGeneration([(Rank(0), null)], 0, EpochSize, fromJournal: false)!.Value.Event);
        var restart = Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(NonFinite(5), maxRestarts: 3)));
        Assert.Equal(5, restart.NonFinite!.Step);
        state = state.Apply(restart);
        // another step: a new fault, restarted as any
        state = state.Apply(Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(NonFinite(7), maxRestarts: 3))));
        // the step the last restart was for, again: a deterministic divergence, whatever budget is left
        var spent = Assert.IsType<RestartBudgetSpent>(Assert.Single(state.ProcessFault(NonFinite(7), maxRestarts: 3)));
        Assert.Contains("phase 1, epoch 1, step 7: the loss is NaN", spent.Cause);
        Assert.Contains("again after a restart from the last committed checkpoint", spent.Cause);
        Assert.Contains("training.clip-grad-norm", spent.Cause);
        // a fault of another kind after a non-finite one restarts as before
        Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(new TrainingFaulted("trainer", "boom"), maxRestarts: 3)));
    }

    const long EpochSize = 100;

    static RankAddress Rank(int i) => new($"10.0.0.{i}:4053", 0, "cpu", $"10.0.0.{i}:5000");

    static LiveState Live(int generation, int epoch, long position, long step, string hash = "h", int phase = 0) =>
        new(0, phase, generation, epoch, position, step, hash, EpochTotals.Zero, 1e-3, false);

    [Fact]
    public void AGenerationGoesOnFromTheMostAdvancedStateTheJournalAllowsElseFromTheJournal()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h1", Plan));
        var (first, start) = state.FormGeneration([(Rank(0), null), (Rank(1), null)], 0, EpochSize, fromJournal: false)!.Value;
        Assert.Equal((0, "fresh", 2, 0L), (first.Generation, start.Kind, first.Members.Count, first.Position));
        state = state.Apply(first);
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 3, 24, false), 0));

        // survivors of a lost node: the one further on is the source, whoever is listed first
        var (next, live) = state.FormGeneration([(Rank(0), Live(0, 0, 32, 4)), (Rank(1), Live(0, 0, 40, 5))], 0, EpochSize, false)!.Value;
        Assert.Equal(("live", 1, 1, 40L, 5L), (live.Kind, live.SourceIndex, next.Generation, next.Position, next.Step));

        // not continued from: behind the last commit, the next epoch while this one's end is not committed, the epoch's
        // very end, another phase
        foreach (var stale in new[] { Live(0, 0, 16, 2), Live(0, 1, 8, 6), Live(0, 0, EpochSize, 13), Live(0, 0, 40, 5, phase: 1) })
        {
            var (e, s) = state.FormGeneration([(Rank(0), stale)], 0, EpochSize, false)!.Value;
            Assert.Equal(("checkpoint", 3L, 24L), (s.Kind, e.Step, e.Position));
        }
        // after a fault nothing held counts: made before it, or the supervisor asks for the journal
        Assert.Equal("checkpoint", state.FormGeneration([(Rank(0), Live(0, 0, 40, 5))], 0, EpochSize, fromJournal: true)!.Value.Start.Kind);
        state = state.Apply(Assert.IsType<TrainingRestarted>(Assert.Single(state.ProcessFault(new TrainingFaulted("trainer", "boom"), 3))));
        Assert.Equal("checkpoint", state.FormGeneration([(Rank(0), Live(0, 0, 40, 5))], 0, EpochSize, false)!.Value.Start.Kind);
        Assert.Equal("live", state.FormGeneration([(Rank(0), Live(2, 0, 40, 5))], 0, EpochSize, false)!.Value.Start.Kind);

        // an epoch end committed: the next epoch's states count, from its start
        (state, _) = Run(state, new CommitCheckpoint(Ckpt(0, 0, 13, EpochSize, true), 0));
        Assert.Equal("live", state.FormGeneration([(Rank(0), Live(2, 1, 0, 13))], 0, EpochSize, false)!.Value.Start.Kind);
        Assert.Equal((1, 0L), state.FormGeneration([(Rank(0), null)], 0, EpochSize, false)!.Value.Event is var g ? (g.Epoch, g.Position) : default);
        Assert.Null(state.FormGeneration([], 0, EpochSize, false));
    }
}
