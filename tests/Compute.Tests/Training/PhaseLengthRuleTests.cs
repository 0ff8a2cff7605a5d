using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Training;

/// <summary>
/// The adaptive scheduler's rule on metric sequences recorded from real runs: the built-in default experiment trained
/// on 2026-12-03 (`actortraining train`, commit 21b02ef; accuracy on its 120 evaluation clips, per epoch).
/// </summary>
public class PhaseLengthRuleTests
{
    // the pool-max C = 4 phase of the curriculum (8 epochs; an epoch cost half of one at C = 2)
    static readonly double[] Pool4 = [0.1583, 0.2250, 0.3250, 0.3417, 0.3750, 0.4333, 0.4167, 0.4667];

    // the 20-epoch baseline at C = 1: a fast start, a flat pair at epochs 3–4, a plateau at 0.6583 from epoch 12 to 17
    static readonly double[] Baseline = [0.1667, 0.3333, 0.3667, 0.3583, 0.4083, 0.4500, 0.4583, 0.4833, 0.5417, 0.5583,
        0.5833, 0.6583, 0.6083, 0.6083, 0.6000, 0.6500, 0.6583, 0.7000, 0.7333, 0.7500];

    static readonly PhaseLengthSettings Defaults = new(MinEpochs: 2, Patience: 2, Window: 3, ExpectedGain: 0.5);

    /// <summary>The epoch (0-based, k) whose score first ends the phase, deciding epoch k + 2; null if none does.</summary>
    static int? FirstEnd(double[] scores, double costRatio, PhaseLengthSettings settings) =>
        Enumerable.Range(0, scores.Length).Cast<int?>().FirstOrDefault(k =>
            PhaseLengthRule.Decide(scores[..(k!.Value + 1)], true, k.Value + 2, costRatio, settings, "accuracy").EndsPhase);

    [Fact]
    public void ACoarsePhaseStillLearningIsKeptToItsBudget()
    {
        // every decision the 8-epoch budget allows (epochs 3…8, from the scores of epochs 1…6) says go on
        for (int k = 0; k <= 5; k++)
        {
            var verdict = PhaseLengthRule.Decide(Pool4[..(k + 1)], true, k + 2, 0.5, Defaults, "accuracy");
            Assert.False(verdict.EndsPhase, $"after epoch {k + 1}: {verdict.Reason}");
        }
        var third = PhaseLengthRule.Decide(Pool4[..4], true, 5, 0.5, Defaults, "accuracy");
        // +0.1834 over 3 epochs is 0.06113/epoch, above 0.5 × 0.5 × 0.06113 (this phase's best) = 0.01528
        Assert.Equal("accuracy gained 0.06113/epoch over the last 3 epochs; the next resolution is expected to give " +
                     "0.5 × 0.06113/epoch (this phase's best) at 2× the FLOPs, 0.01528/epoch here: go on", third.Reason);
    }

    [Fact]
    public void APlateauEndsThePhaseByPatienceWithTheDefaults()
    {
        Assert.Equal(13, FirstEnd(Baseline, 0.5, Defaults));
        var end = PhaseLengthRule.Decide(Baseline[..14], true, 15, 0.5, Defaults, "accuracy");
        Assert.Equal("no new best accuracy for 2 epochs (best 0.6583 at epoch 12; patience 2)", end.Reason);
    }

    [Fact]
    public void AWindowOfTwoEpochsEndsOnOneFlatPairOfScores()
    {
        // epochs 3 and 4 (0.3667, 0.3583) gain 0.0167/epoch against 0.5 × 0.5 × 0.1 — the reason the default window is 3
        Assert.Equal(3, FirstEnd(Baseline, 0.5, Defaults with { Window = 2 }));
        var end = PhaseLengthRule.Decide(Baseline[..4], true, 5, 0.5, Defaults with { Window = 2 }, "accuracy");
        Assert.StartsWith("accuracy gained 0.0167/epoch over the last 2 epochs", end.Reason);
        Assert.EndsWith("0.025/epoch here: end", end.Reason);
    }

    [Fact]
    public void TheCheaperTheCoarsePhaseRelativeToTheNextTheLongerItIsKept()
    {
        var noPatience = Defaults with { Patience = 100 };
        Assert.Equal(14, FirstEnd(Baseline, 0.25, noPatience)); // an epoch here costs a quarter of one at the next resolution
        Assert.Equal(14, FirstEnd(Baseline, 0.5, noPatience));
        Assert.Equal(4, FirstEnd(Baseline, 1.0, noPatience));   // as dear as the next: a gain of 0.025/epoch < 0.0333 ends it
    }

    [Fact]
    public void ALossIsJudgedLowerIsBetterAndAnEpochWithoutAScoreKeepsTheBest()
    {
        var loss = PhaseLengthRule.Decide([1.0, 0.8, 0.9, 0.85], false, 5, 0.5, Defaults, "eval_loss");
        Assert.True(loss.EndsPhase);
        Assert.Equal("no new best eval_loss for 2 epochs (best 0.8 at epoch 2; patience 2)", loss.Reason);
        Assert.False(PhaseLengthRule.Decide([double.NaN, 0.3, 0.4], true, 4, 0.5, Defaults, "accuracy").EndsPhase);
        Assert.True(PhaseLengthRule.Decide([double.NaN, double.NaN], true, 3, 0.5, Defaults, "accuracy").EndsPhase);
        Assert.StartsWith("minimum length", PhaseLengthRule.Decide([0.5, 0.1, 0.1, 0.1], true, 5, 0.5, Defaults with { MinEpochs = 6 }, "accuracy").Reason);
    }
}
