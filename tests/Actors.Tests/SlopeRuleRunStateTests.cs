using ActorTraining.Compute.Compression;
using ActorTraining.Actors;
using ActorTraining.Messages;
using ActorTraining.Tests.Shared;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// The adaptive scheduler's slope rule inside the supervisor's state: a started phase waits for a probe of the next
/// resolution, ends or goes on by what it measured, probes once more a window later; a phase still at chance by its
/// cap probes the next resolution and moves on or stops the run. Probes are journal events, replayed the same.
/// </summary>
public class SlopeRuleRunStateTests
{
    // pool 4 with a budget of 14 epochs (10 for the phase at chance), then C = 1 with 4; an epoch at C = 4 costs half of
    // one at C = 1 here
    static PhasePlan[] Plan(int budget) =>
    [
        new(0, new Compression(CompressionMethod.Pool, 4, PoolingKind.Max), budget, 1e-3, 10, 64),
        new(1, new Compression(CompressionMethod.Pool, 1, PoolingKind.Max), 4, 1e-3, 10, 256),
    ];

    static readonly AdaptiveSchedule Slope = new("accuracy", HigherIsBetter: true, BudgetInFlops: true, MinEpochs: 2, Patience: 3,
        Window: 3, ExpectedGain: 0.5, SampleFlops: [2e9, 4e9], GateMetric: "accuracy", StartedAt: RecordedKeywordRun.Threshold, ProbeSteps: [12, 0]);

    static CheckpointCommitted End(int epoch, double trainLoss) =>
        new($"/run/checkpoints/p0-e{epoch}-end.ckpt", $"sha0{epoch}", 0, epoch, 10 * (epoch + 1), 100, true,
            1.5, 0.25, trainLoss * 100, 100, 1e9, 0, 1e-3);

    static object[] Epoch(int epoch, double trainLoss, double accuracy) =>
        [End(epoch, trainLoss), new EvaluationDone(0, epoch, new Dictionary<string, double> { ["accuracy"] = accuracy })];

    // a phase that learns: above chance + 3 standard errors from epoch 3, its smoothed training loss past its steepest
    // fall at epoch 7
    static readonly double[] Loss = [2.30, 2.25, 1.90, 1.30, 1.00, 0.90, 0.85, 0.82, 0.80, 0.79, 0.78, 0.77];
    static readonly double[] Accuracy = [0.10, 0.14, 0.30, 0.45, 0.52, 0.55, 0.57, 0.58, 0.60, 0.61, 0.61, 0.62];

    static (RunState State, List<ISupervisorEvent> Events) Run(RunState state, params object[] commands) => AdaptiveRunStateTests.Run(state, commands);

    static (RunState State, List<ISupervisorEvent> Events) Learning(int epochs) =>
        Run(RunState.Empty, [new StartRun("h", Plan(14), Slope), .. Enumerable.Range(0, epochs).SelectMany(k => Epoch(k, Loss[k], Accuracy[k]))]);

    static PhaseProbed Probed(ProbeRequest r, double hereFrom, double hereTo, double thereFrom, double thereTo) =>
        new(r.From.Index, r.Epoch, r.Purpose, r.Steps, thereFrom, thereTo, 1e10, 2e9, 3.5, r.HereSteps, hereFrom, hereTo, r.HereSteps > 0 ? 1e10 : 0);

    [Fact]
    public void AStartedPhaseWaitsForAProbeAndEndsWhenTheNextResolutionGainsMorePerFlop()
    {
        var (state, events) = Learning(7);
        // below the threshold, then in the loss's fall: the gate kept the phase going; after epoch 7's score it has started
        Assert.All(events.OfType<PhaseLengthDecided>(), d => Assert.Contains("the phase has not started", d.Reason));
        var request = state.PendingProbe();
        Assert.NotNull(request);
        Assert.Equal((0, 6, ProbePurpose.Slope), request.Key);
        Assert.Equal((12, 24), (request.Steps, request.HereSteps)); // the same FLOPs at half the cost per sample
        Assert.Equal(End(6, 0).Path, request.Checkpoint.Path);
        Assert.Equal(1, request.To.Index);
        Assert.Contains(request.Checkpoint.Path, state.CheckpointsToKeep()); // until the probe is measured
        Assert.Equal(8, state.Phases[0].Epochs); // epoch 9 is not granted before the probe

        // a probe of another checkpoint, or one that was not asked for, changes nothing
        Assert.Empty(state.Process(Probed(request with { Epoch = 5 }, 1.0, 0.9, 1.1, 0.9)));

        var probed = Probed(request, 1.00, 0.98, 1.02, 0.95);
        (state, events) = Run(state, probed);
        Assert.Equal(probed, events[0]);
        var end = Assert.IsType<PhaseLengthDecided>(events[1]);
        Assert.True(end.EndsPhase, end.Reason);
        Assert.Equal((8, 4 + 3), (end.PhaseEpochs, end.NextPhaseEpochs));
        Assert.Equal("probe after epoch 7: for the same FLOPs, this phase lowered the eval loss 1 → 0.98 in 24 steps (2/TFLOP) and the next " +
            "resolution 1.02 → 0.95 in 12 steps (7/TFLOP): end; 6 unused epoch(s) of this phase give the next 3 more", end.Reason);
        Assert.Null(state.PendingProbe());

        // the journal's events replay to the same state, probe included
        var replayed = RunState.Empty.ApplyAll(Learning(7).Events.Concat([probed, end]));
        Assert.Equal(state.Probes, replayed.Probes);
        Assert.Equal(state.Decisions, replayed.Decisions);
        Assert.Equal(state.Phases.ToArray(), replayed.Phases.ToArray());
    }

    [Fact]
    public void APhaseThatStillGainsMoreGoesOnAndIsProbedOnceMoreAWindowLater()
    {
        var (state, _) = Learning(7);
        var first = state.PendingProbe()!;
        (state, var events) = Run(state, Probed(first, 1.00, 0.90, 1.02, 0.99));
        var goOn = Assert.IsType<PhaseLengthDecided>(events[1]);
        Assert.False(goOn.EndsPhase, goOn.Reason);
        Assert.EndsWith(": go on", goOn.Reason);

        // epochs 8 and 9 go on by that probe; the score of epoch 10 (a window of 3 after the probe's epoch 7) asks for a second
        (state, events) = Run(state, [.. Epoch(7, Loss[7], Accuracy[7]), .. Epoch(8, Loss[8], Accuracy[8])]);
        Assert.Equal(2, events.OfType<PhaseLengthDecided>().Count());
        Assert.All(events.OfType<PhaseLengthDecided>(), d => Assert.StartsWith("probe after epoch 7:", d.Reason));
        Assert.Null(state.PendingProbe());
        (state, events) = Run(state, Epoch(9, Loss[9], Accuracy[9]));
        Assert.Empty(events.OfType<PhaseLengthDecided>());
        var second = state.PendingProbe()!;
        Assert.Equal((0, 9, ProbePurpose.Slope), second.Key);

        // the second probe also finds the phase faster: no third; the phase trains to its budget
        (state, events) = Run(state, Probed(second, 0.90, 0.85, 0.95, 0.94));
        Assert.False(Assert.IsType<PhaseLengthDecided>(events[1]).EndsPhase);
        (state, events) = Run(state, [.. Epoch(10, Loss[10], Accuracy[10]), .. Epoch(11, Loss[11], Accuracy[11])]);
        Assert.All(events.OfType<PhaseLengthDecided>(), d => Assert.StartsWith("probe after epoch 10:", d.Reason));
        Assert.Null(state.PendingProbe());
        Assert.Equal(14, state.Phases[0].Epochs);
        Assert.True(state.LengthSettled(0));
        Assert.Equal(2, state.Probes.Count);
    }

    /// <summary>
    /// Measured on BENCHMARKS (a) (instruments, seed 1): a C = 2 phase carried over from a C = 4 phase at 0.36 accuracy
    /// was "not started" for its whole budget because its own log-FLOPs axis made a steady fall look ever steeper, and at
    /// its cap an 8-step probe that did not learn stopped the run. Weights from a phase that had started need only the
    /// score, and only a phase at chance is probed at its cap.
    /// </summary>
    [Fact]
    public void APhaseOnLearnedWeightsHasStartedAboveChanceAndOneAboveChanceIsNeverCalledStuck()
    {
        PhasePlan[] plan = [.. Plan(14)[..1], Plan(14)[0] with { Index = 1, Compression = new Compression(CompressionMethod.Pool, 2, PoolingKind.Max), Epochs = 6 },
            Plan(14)[1] with { Index = 2 }];
        var schedule = Slope with { SampleFlops = [2e9, 3e9, 4e9], ProbeSteps = [12, 12, 0] };
        var (state, _) = Run(RunState.Empty, [new StartRun("h", plan, schedule), .. Enumerable.Range(0, 7).SelectMany(k => Epoch(k, Loss[k], Accuracy[k]))]);
        (state, _) = Run(state, Probed(state.PendingProbe()!, 1.00, 0.98, 1.02, 0.95), End(7, Loss[7]));
        Assert.Equal(1, state.CurrentPhase);
        // phase 2 goes on from phase 1's learned weights: its first score above chance is enough, its loss's shape is not asked
        static object[] Second(int k, double loss, double accuracy) =>
        [
            new CheckpointCommitted($"/run/checkpoints/p1-e{k}-end.ckpt", $"sha1{k}", 1, k, 10 * (k + 1), 100, true, 1.5, 0.25, loss * 100, 100, 1e9, 0, 1e-3),
            new EvaluationDone(1, k, new Dictionary<string, double> { ["accuracy"] = accuracy }),
        ];
        (state, _) = Run(state, Second(0, 0.80, 0.60));
        Assert.Equal((1, 0, ProbePurpose.Slope), state.PendingProbe()!.Key);

        // the first phase above chance but in a steady fall (each epoch's loss 0.1 lower) to its cap: no stuck probe, its budget is trained
        var steady = Enumerable.Range(0, 9).SelectMany(k => Epoch(k, 2.0 - 0.1 * k, 0.3)).ToArray();
        var (capped, events) = Run(RunState.Empty, [new StartRun("h", Plan(10), Slope), .. steady]);
        Assert.All(events.OfType<PhaseLengthDecided>(), d => Assert.StartsWith("the phase has not started, ", d.Reason));
        Assert.StartsWith("the phase has not started, its training loss is still in its steepest fall", events.OfType<PhaseLengthDecided>().Last().Reason);
        Assert.Null(capped.PendingProbe());
        Assert.True(capped.LengthSettled(0));
        Assert.Equal(10, capped.Phases[0].Epochs);
    }

    [Fact]
    public void APhaseAtChanceByItsCapProbesTheNextResolutionAndMovesOnIfThatLearnsOrStopsTheRun()
    {
        // the keyword run's C = 4 phase that v1 ended at chance (BENCHMARKS (a), seed 1), its first 8 epochs
        var atChance = Enumerable.Range(0, 8).SelectMany(k => Epoch(k, RecordedKeywordRun.Pool4Loss[k], RecordedKeywordRun.Pool4Accuracy[k])).ToArray();
        var (state, events) = Run(RunState.Empty, [new StartRun("h", Plan(10), Slope), .. atChance]);
        Assert.All(events.OfType<PhaseLengthDecided>(), d => Assert.StartsWith("the phase has not started, its best accuracy", d.Reason));
        Assert.Equal(9, state.Phases[0].Epochs);
        // deciding the budget's last epoch (from epoch 8's score): the cap — probe the next resolution, without the phase's own burst
        var request = state.PendingProbe()!;
        Assert.Equal((0, 7, ProbePurpose.Stuck, 0), (request.From.Index, request.Epoch, request.Purpose, request.HereSteps));

        // it learns: move on; the phase's FLOPs so far are wasted
        var (moved, movedEvents) = Run(state, Probed(request, double.NaN, double.NaN, 2.30, 2.20));
        var end = Assert.IsType<PhaseLengthDecided>(movedEvents[1]);
        Assert.True(end.EndsPhase);
        Assert.Equal(9, end.PhaseEpochs);
        Assert.Contains("the phase has not started by its cap (its best accuracy 0.1425 is below 0.145", end.Reason);
        Assert.Contains("a probe of the next resolution (pool-max C=1) went from eval loss 2.3 to 2.2 in 12 steps: move on; its 0.008 TFLOPs so far are wasted", end.Reason);
        Assert.Null(moved.Stuck);

        // it is stuck as well: the run stops, saying so; nothing more is decided or probed
        var (stopped, stoppedEvents) = Run(state, Probed(request, double.NaN, double.NaN, 2.3026, 2.3031));
        var stuck = Assert.IsType<CurriculumStuck>(stoppedEvents[1]);
        Assert.StartsWith("phase 1 (pool-max C=4) did not start in 9 of its 10 epochs (its best accuracy 0.1425 is below 0.145", stuck.Reason);
        Assert.Contains("the optimisation is stuck, not the resolution — the run stops rather than spend its budget", stuck.Reason);
        Assert.Equal(stuck, stopped.Stuck);
        Assert.Null(stopped.PendingProbe());
        Assert.Empty(Run(stopped, Epoch(8, 2.30, 0.1)).Events.OfType<PhaseLengthDecided>());
        Assert.Equal(stuck, RunState.Empty.ApplyAll(Run(RunState.Empty, [new StartRun("h", Plan(10), Slope), .. atChance]).Events.Concat(stoppedEvents)).Stuck);
    }
}
