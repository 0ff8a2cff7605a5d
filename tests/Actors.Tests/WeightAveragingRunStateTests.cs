using ActorTraining.Compute.Compression;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>The run's state with weight averaging: which checkpoints it keeps, when the average is due, and that the run
/// completes only once the average is scored, with it as the final checkpoint.</summary>
public class WeightAveragingRunStateTests
{
    // a coarse phase of 2 epochs, then the last phase of 4, averaging its epochs 2–3 (1-based: 2–3 → 0-based 1–2)
    static readonly PhasePlan[] Plan =
    [
        new(0, new Compression(CompressionMethod.Pool, 4, PoolingKind.Max), 2, 1e-3, 10, 64),
        new(1, new Compression(CompressionMethod.Pool, 1, PoolingKind.Max), 4, 1e-3, 10, 256),
    ];

    static readonly WeightAveraging Range = new(1, 2);

    static CheckpointCommitted End(int phase, int epoch) =>
        new($"/run/checkpoints/p{phase}-e{epoch}-end.ckpt", $"sha-p{phase}-e{epoch}", phase, epoch, 10L * (epoch + 1), 80, true,
            1.5, 0.25, 800, 80, 1e9, 0, 1e-3);

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

    static EvaluationDone Scored(int phase, int epoch, double accuracy = 0.5) =>
        new(phase, epoch, new Dictionary<string, double> { ["accuracy"] = accuracy, ["eval_loss"] = 1.0 });

    /// <summary>Every epoch of both phases trained and scored.</summary>
    static (RunState State, List<ISupervisorEvent> Events) Trained()
    {
        var commands = new List<object> { new StartRun("h", Plan, null, Range) };
        for (int p = 0; p < Plan.Length; p++)
            for (int e = 0; e < Plan[p].Epochs; e++)
            {
                commands.Add(new CommitCheckpoint(End(p, e), 0));
                commands.Add(Scored(p, e));
            }
        return Run(RunState.Empty, commands.ToArray());
    }

    [Fact]
    public void TheAveragedEpochEndsAreKeptUntilTheAverageIsWrittenAndTheRunDoesNotCompleteBeforeItIsScored()
    {
        var (state, events) = Trained();
        Assert.Equal(Range, state.Averaging);
        Assert.DoesNotContain(events, e => e is RunCompleted);
        Assert.False(state.Completed);
        Assert.Null(state.TrainOrder()); // nothing left to train while the average is made
        // epochs 1 and 2 of the last phase (0-based) stay; the last one is the newest; epoch 0 and the coarse epoch 0 go
        var keep = state.CheckpointsToKeep();
        Assert.Contains(End(1, 1).Path, keep);
        Assert.Contains(End(1, 2).Path, keep);
        Assert.Contains(End(1, 3).Path, keep);
        Assert.DoesNotContain(End(1, 0).Path, keep);
        Assert.DoesNotContain(End(0, 0).Path, keep);
        Assert.Equal([End(1, 1).Path, End(1, 2).Path], state.AveragingInputs()!.Select(c => c.Path));
    }

    [Fact]
    public void TheWrittenAverageIsEvaluatedThenCompletesTheRunAsItsFinalCheckpoint()
    {
        var (state, _) = Trained();
        var written = new WeightsAveraged(1, Range, "/run/checkpoints/avg.ckpt", "sha-avg");
        (state, var events) = Run(state, written);
        Assert.Equal([written], events);
        Assert.Null(state.AveragingInputs()); // written once
        Assert.Empty(state.Process(written));
        // the averaged inputs may go now (the last epoch's stays: it is the newest commit)
        Assert.Contains(End(1, 1).Path, state.CheckpointsToDelete());
        Assert.Contains(End(1, 2).Path, state.CheckpointsToDelete());
        var pending = Assert.Single(state.PendingEvaluations());
        Assert.Equal(EvaluateCheckpoint.AveragedWeights, pending.Epoch);
        Assert.Equal(new CheckpointRef(written.Path, written.Sha256), pending.Checkpoint);
        Assert.Equal(1, pending.Phase.Index);

        (state, events) = Run(state, Scored(1, EvaluateCheckpoint.AveragedWeights, 0.75));
        var scored = Assert.IsType<AveragedWeightsEvaluated>(events[0]);
        Assert.Equal(0.75, scored.Metrics["accuracy"]);
        Assert.Equal(Range, scored.Averaging);
        Assert.IsType<PhaseCompleted>(events[1]);
        var completed = Assert.IsType<RunCompleted>(events[2]);
        Assert.Equal((written.Path, written.Sha256), (completed.FinalCheckpoint, completed.Sha256));
        Assert.True(state.Completed);
        Assert.Equal(written.Path, state.FinalCheckpoint()!.Path);
        Assert.Empty(state.PendingEvaluations());
        // the epochs themselves are unchanged: the average is no epoch
        Assert.Equal(6, state.Epochs.Count);
    }

    [Fact]
    public void TheAverageIsNotDueBeforeTheLastEpochOfTheLastPhaseIsCommittedAndAnAverageOfAnotherRangeIsRefused()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h", Plan, null, Range), new CommitCheckpoint(End(0, 0), 0),
            new CommitCheckpoint(End(0, 1), 0), new CommitCheckpoint(End(1, 0), 0), new CommitCheckpoint(End(1, 1), 0),
            new CommitCheckpoint(End(1, 2), 0));
        Assert.Null(state.AveragingInputs()); // epoch 3 (0-based) not trained: the average waits for the phase's end
        Assert.Empty(state.Process(new WeightsAveraged(1, Range, "/x.ckpt", "s")));
        (state, _) = Run(state, new CommitCheckpoint(End(1, 3), 0));
        Assert.NotNull(state.AveragingInputs());
        Assert.Empty(state.Process(new WeightsAveraged(1, new WeightAveraging(0, 3), "/x.ckpt", "s")));
    }

    [Fact]
    public void TheJournalReplaysToTheSameStateAtEveryPrefixAndAKillBeforeTheAverageLeavesItDueAgain()
    {
        var (trained, trainingEvents) = Trained();
        var (done, averagingEvents) = Run(trained, new WeightsAveraged(1, Range, "/a.ckpt", "s"), Scored(1, EvaluateCheckpoint.AveragedWeights));
        var journal = trainingEvents.Concat(averagingEvents).ToList();
        var replayed = RunState.Empty.ApplyAll(journal);
        Assert.Equal(done.Completed, replayed.Completed);
        Assert.Equal(done.AverageScore, replayed.AverageScore);
        // a kill after the last epoch's evaluation and before the average: the restarted run asks for it again, nothing else
        var resumed = RunState.Empty.ApplyAll(trainingEvents);
        Assert.Empty(resumed.Process(new StartRun("h", Plan, null, Range)));
        Assert.NotNull(resumed.AveragingInputs());
        // written but not scored: its evaluation is pending again
        var written = resumed.ApplyAll([averagingEvents[0]]);
        Assert.Equal(EvaluateCheckpoint.AveragedWeights, Assert.Single(written.PendingEvaluations()).Epoch);
    }

    [Fact]
    public void ARangeCountedFromTheEndIsResolvedAgainstTheLastPhaseAsItIs()
    {
        Assert.Equal(new WeightAveraging(2, 3), new WeightAveraging(-2, -1).In(4));
        Assert.Equal(new WeightAveraging(1, 9), new WeightAveraging(1, -1).In(10));
        Assert.Equal(new WeightAveraging(5, 24), new WeightAveraging(5, 24).In(25));
        var commands = new List<object> { new StartRun("h", Plan, null, new WeightAveraging(-2, -1)) };
        for (int p = 0; p < Plan.Length; p++)
            for (int e = 0; e < Plan[p].Epochs; e++)
                commands.Add(new CommitCheckpoint(End(p, e), 0));
        var (state, _) = Run(RunState.Empty, commands.ToArray());
        Assert.Equal([End(1, 2).Path, End(1, 3).Path], state.AveragingInputs()!.Select(c => c.Path));
        Assert.Empty(state.Process(new WeightsAveraged(1, new WeightAveraging(-2, -1), "/a.ckpt", "s"))); // events carry the resolved range
        Assert.Single(state.Process(new WeightsAveraged(1, new WeightAveraging(2, 3), "/a.ckpt", "s")));
    }

    [Fact]
    public void WithoutAveragingTheRunCompletesAtItsLastScoreWithItsLastCheckpoint()
    {
        var commands = new List<object> { new StartRun("h", Plan) };
        for (int p = 0; p < Plan.Length; p++)
            for (int e = 0; e < Plan[p].Epochs; e++)
            {
                commands.Add(new CommitCheckpoint(End(p, e), 0));
                commands.Add(Scored(p, e));
            }
        var (state, events) = Run(RunState.Empty, commands.ToArray());
        Assert.Equal(End(1, 3).Path, Assert.IsType<RunCompleted>(events[^1]).FinalCheckpoint);
        Assert.Null(state.AveragingInputs());
        Assert.Empty(state.Process(Scored(1, EvaluateCheckpoint.AveragedWeights)));
    }
}
