using ActorTraining.Compute.Compression;
using ActorTraining.Actors;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// The adaptive scheduler inside the supervisor's state: a coarse phase is granted one epoch at a time from the scores
/// of the epochs two before, ends by the rule, hands what it leaves to the next phase, and every decision is an event
/// that replays to the same state.
/// </summary>
public class AdaptiveRunStateTests
{
    // pool 4 with a budget of 6 epochs, then C = 1 with 4; an epoch at C = 4 costs half of one at C = 1 here
    static readonly PhasePlan[] Plan =
    [
        new(0, new Compression(CompressionMethod.Pool, 4, PoolingKind.Max), 6, 1e-3, 10, 64),
        new(1, new Compression(CompressionMethod.Pool, 1, PoolingKind.Max), 4, 1e-3, 10, 256),
    ];

    static readonly AdaptiveSchedule Schedule = new("accuracy", HigherIsBetter: true, BudgetInFlops: true, MinEpochs: 2, Patience: 2,
        Window: 1, ExpectedGain: 0.5, SampleFlops: [2e9, 4e9]);

    static CheckpointCommitted End(int phase, int epoch) =>
        new($"/run/checkpoints/p{phase}-e{epoch}-end.ckpt", $"sha{phase}{epoch}", phase, epoch, 10 * (epoch + 1), 100, true,
            1.5, 0.25, 100, 100, 1e9, 0, 1e-3);

    static EvaluationDone Scored(int phase, int epoch, double accuracy) => new(phase, epoch, new Dictionary<string, double> { ["accuracy"] = accuracy });

    /// <summary>Processes each command (a checkpoint as member 0's commit) and folds its events in.</summary>
    internal static (RunState State, List<ISupervisorEvent> Events) Run(RunState state, params object[] commands)
    {
        var all = new List<ISupervisorEvent>();
        foreach (var c in commands)
        {
            var events = state.Process(c is CheckpointCommitted cc ? new CommitCheckpoint(cc, 0) : c);
            state = state.ApplyAll(events);
            all.AddRange(events);
        }
        return (state, all);
    }

    [Fact]
    public void ACoarsePhaseIsGrantedEpochByEpochEndsByTheRuleAndHandsItsUnusedFlopsOn()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h", Plan, Schedule));
        Assert.Equal([2, 4], state.Phases.Select(p => p.Epochs)); // two epochs train before the first decision
        Assert.Equal([6, 4], state.Budgets.ToArray());

        // epoch 0's score decides epoch 2: one score cannot show a gain yet
        (state, var events) = Run(state, End(0, 0), Scored(0, 0, 0.30));
        var first = Assert.IsType<PhaseLengthDecided>(events.Last());
        Assert.Equal((0, 0, false, 3), (first.Phase, first.Epoch, first.EndsPhase, first.PhaseEpochs));
        Assert.Contains("too few epochs", first.Reason);

        // +0.20 in one epoch: well above 0.5 × 0.20 × (2e9 / 4e9) = 0.05 — go on
        (state, events) = Run(state, End(0, 1), Scored(0, 1, 0.50));
        var second = Assert.IsType<PhaseLengthDecided>(events.Last());
        Assert.Equal((1, false, 4), (second.Epoch, second.EndsPhase, second.PhaseEpochs));
        Assert.EndsWith("go on", second.Reason);

        // +0.01 is below 0.05: epoch 4 is not trained; the two unused epochs at half the cost give C = 1 one more
        (state, events) = Run(state, End(0, 2), Scored(0, 2, 0.51));
        var third = Assert.IsType<PhaseLengthDecided>(events.Last());
        Assert.Equal((2, true, 4, 5), (third.Epoch, third.EndsPhase, third.PhaseEpochs, third.NextPhaseEpochs));
        Assert.Contains("2 unused epoch(s) of this phase give the next 1 more", third.Reason);
        Assert.Equal(3, state.TrainOrder()!.Resume!.Epoch + 1); // epoch 3 (0-based) is still to train

        (state, events) = Run(state, End(0, 3));
        Assert.Equal([typeof(CheckpointCommitted), typeof(PhaseCompleted), typeof(PhaseStarted)], events.Select(e => e.GetType()));
        Assert.Equal(1, state.TrainOrder()!.Phase.Index);
        Assert.Equal(5, state.TrainOrder()!.Phase.Epochs);
        Assert.Equal(4e9, state.TrainOrder()!.Phase.FlopsBefore); // the four epochs of phase 0 (a run-long lr schedule's input)
        Assert.Empty(Run(state, Scored(0, 3, 0.52)).Events.OfType<PhaseLengthDecided>()); // settled: no more decisions

        // the journal's events replay to the same state
        var replayed = RunState.Empty.ApplyAll(Run(RunState.Empty, new StartRun("h", Plan, Schedule), End(0, 0), Scored(0, 0, 0.30),
            End(0, 1), Scored(0, 1, 0.50), End(0, 2), Scored(0, 2, 0.51), End(0, 3)).Events);
        Assert.Equal(state.Phases.ToArray(), replayed.Phases.ToArray());
        Assert.Equal(state.Decisions, replayed.Decisions);
        Assert.Equal(state.TrainOrder(), replayed.TrainOrder());
    }

    [Fact]
    public void TheLastGrantedEpochTrainedBeforeItsDecisionWaitsForItThenGoesOnOrEnds()
    {
        var (state, _) = Run(RunState.Empty, new StartRun("h", Plan, Schedule), End(0, 0), End(0, 1));
        Assert.Null(state.TrainOrder()); // epochs 0 and 1 trained, epoch 0 not scored: nothing to train yet
        var (goOn, events) = Run(state, Scored(0, 0, 0.3));
        Assert.False(Assert.IsType<PhaseLengthDecided>(events.Last()).EndsPhase);
        Assert.Equal(2, goOn.TrainOrder()!.Resume!.Epoch + 1);

        // with a rule that cannot be satisfied (expected gain 10 × the best gain) the phase ends at its minimum
        var strict = Schedule with { ExpectedGain = 10, MinEpochs = 3 };
        (state, _) = Run(RunState.Empty, new StartRun("h", Plan, strict), End(0, 0), End(0, 1), End(0, 2), Scored(0, 0, 0.3));
        Assert.Equal(3, state.Phases[0].Epochs); // min-epochs 3 is granted at once
        (state, events) = Run(state, Scored(0, 1, 0.5));
        Assert.Equal([typeof(EpochCompleted), typeof(PhaseLengthDecided), typeof(PhaseCompleted), typeof(PhaseStarted)], events.Select(e => e.GetType()));
        var end = (PhaseLengthDecided)events[1];
        Assert.Equal((true, 3, 4 + 1), (end.EndsPhase, end.PhaseEpochs, end.NextPhaseEpochs)); // 3 unused × 0.5 = 1.5 → 1
        Assert.Equal(1, state.TrainOrder()!.Phase.Index);
    }

    [Fact]
    public void NoNewBestForPatienceEpochsEndsAPhaseAndAnEpochBudgetHandsOnEpochsOneForOne()
    {
        var patient = Schedule with { BudgetInFlops = false, ExpectedGain = 0.01, Window = 3 };
        var (state, events) = Run(RunState.Empty, new StartRun("h", Plan, patient),
            End(0, 0), Scored(0, 0, 0.40), End(0, 1), Scored(0, 1, 0.60), End(0, 2), Scored(0, 2, 0.55), End(0, 3), Scored(0, 3, 0.58));
        var end = events.OfType<PhaseLengthDecided>().Last();
        Assert.True(end.EndsPhase);
        Assert.StartsWith("no new best accuracy for 2 epochs (best 0.6 at epoch 2; patience 2)", end.Reason);
        Assert.Equal((5, 4 + 1), (end.PhaseEpochs, end.NextPhaseEpochs)); // one unused epoch, handed on as one epoch
    }

    /// <summary>
    /// Patience alone ends a phase that never left chance (the keyword run of BENCHMARKS (a), 60 epochs, seed 1: eval loss
    /// 2.30 and accuracy 0.10–0.12 for 8 epochs). With the started gate it trains its budget; once a phase has started —
    /// above chance + 3 standard errors, its training loss past the steepest fall — patience ends it as before.
    /// </summary>
    [Fact]
    public void APhaseThatHasNotStartedIsNotEndedForLackOfProgress()
    {
        PhasePlan[] plan = [Plan[0] with { Epochs = 10 }, Plan[1]];
        var gated = Schedule with { ExpectedGain = 0.01, Window = 3, GateMetric = "accuracy", StartedAt = 0.145 };
        static CheckpointCommitted Trained(int epoch, double loss) => End(0, epoch) with { EpochLossSum = loss * 100 };
        object[] AtChance(int epochs) => Enumerable.Range(0, epochs)
            .SelectMany(k => new object[] { Trained(k, 2.30 - 0.001 * (k % 2)), Scored(0, k, k % 3 == 1 ? 0.12 : 0.10) }).ToArray();

        var (_, ungated) = Run(RunState.Empty, [new StartRun("h", plan, gated with { GateMetric = null }), .. AtChance(4)]);
        var ended = ungated.OfType<PhaseLengthDecided>().Last();
        Assert.True(ended.EndsPhase, ended.Reason); // v1: no new best for 2 epochs

        var (state, events) = Run(RunState.Empty, [new StartRun("h", plan, gated), .. AtChance(8)]);
        var decisions = events.OfType<PhaseLengthDecided>().ToList();
        Assert.All(decisions, d => Assert.False(d.EndsPhase, d.Reason));
        Assert.Contains("— but the phase has not started, its best accuracy 0.12 is below 0.145", decisions.Last().Reason);
        Assert.Equal(10, state.Phases[0].Epochs); // granted up to its budget

        // a phase that learns: above the threshold, the loss falling then flattening — a plateau ends it by patience
        double[] loss = [2.30, 2.25, 1.90, 1.30, 1.00, 0.90, 0.88, 0.87];
        double[] accuracy = [0.10, 0.14, 0.30, 0.45, 0.52, 0.55, 0.54, 0.55];
        (state, events) = Run(RunState.Empty, [new StartRun("h", plan, gated),
            .. Enumerable.Range(0, 8).SelectMany(k => new object[] { Trained(k, loss[k]), Scored(0, k, accuracy[k]) })]);
        var last = events.OfType<PhaseLengthDecided>().Last();
        Assert.True(last.EndsPhase, last.Reason);
        Assert.StartsWith("no new best accuracy for 2 epochs (best 0.55 at epoch 6", last.Reason);
    }

    [Fact]
    public void AFixedRunHasNoDecisionsAndItsPhasesKeepTheirEpochs()
    {
        var (state, events) = Run(RunState.Empty, new StartRun("h", Plan), End(0, 0), Scored(0, 0, 0.3), End(0, 1), Scored(0, 1, 0.3));
        Assert.Empty(events.OfType<PhaseLengthDecided>());
        Assert.Equal([6, 4], state.Phases.Select(p => p.Epochs));
        Assert.True(state.LengthSettled(0));
    }
}
