using ActorTraining.Compute.Training;
using ActorTraining.Tests.Shared;
using static ActorTraining.Tests.Shared.RecordedKeywordRun;

namespace ActorTraining.Compute.Tests.Training;

/// <summary>The started gate: chance + 3 standard errors, and the training loss past its steepest fall against FLOPs.</summary>
public class StartedGateTests
{
    static double[] Same(int n, double v) => Enumerable.Repeat(v, n).ToArray();

    // the keyword run whose coarse phases v1 ended at chance (RecordedKeywordRun)
    const double KeywordThreshold = RecordedKeywordRun.Threshold;

    [Fact]
    public void TheRecordedCoarsePhasesThatTheRuleEndedAtChanceHadNotStarted()
    {
        Assert.Equal(KeywordThreshold, StartedGate.Threshold(0.1, 400), 12);
        // the rule alone, as it ran: the evaluation loss's gain per FLOP over epochs 6–8 below the next resolution's
        var v1 = PhaseLengthRule.Decide(Pool4EvalLoss, false, 9, 144125952000.0 / 278133964800.0, new(2, 3, 3, 0.5), "eval_loss");
        Assert.True(v1.EndsPhase, v1.Reason);
        // the decision that ended C = 4 read epochs 1–8; no prefix of the phase had started
        for (int n = 1; n <= Pool4Accuracy.Length; n++)
            Assert.StartsWith("its best accuracy", StartedGate.NotStarted(Pool4Accuracy[..n], Pool4Loss[..n], Same(n, Pool4EpochFlops), KeywordThreshold, "accuracy"));
        // C = 2 rose above chance + 3 standard errors at its 6th epoch, but its training loss had only begun to fall:
        // the decision that ended it (epochs 1–7) came in the loss's steepest fall so far
        Assert.StartsWith("its training loss is still in its steepest fall",
            StartedGate.NotStarted(Pool2Accuracy[..7], Pool2Loss[..7], Same(7, Pool2EpochFlops), KeywordThreshold, "accuracy"));
        Assert.NotNull(StartedGate.NotStarted(Pool2Accuracy, Pool2Loss, Same(8, Pool2EpochFlops), KeywordThreshold, "accuracy"));
    }

    [Fact]
    public void APhaseOnWeightsThatHadStartedNeedsOnlyItsScore()
    {
        double[] steady = [2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4]; // a steady fall: against the log of its own FLOPs, ever steeper
        Assert.StartsWith("its training loss is still in its steepest fall", StartedGate.NotStarted(Same(7, 0.3), steady, Same(7, 1e12), 0.145, "accuracy"));
        Assert.Null(StartedGate.NotStarted(Same(7, 0.3), steady, Same(7, 1e12), 0.145, "accuracy", fromLearnedWeights: true));
        Assert.StartsWith("its best accuracy 0.12", StartedGate.NotStarted(Same(7, 0.12), steady, Same(7, 1e12), 0.145, "accuracy", fromLearnedWeights: true));
        Assert.True(StartedGate.AtChance(Same(3, double.NaN), 0.145));
    }

    [Fact]
    public void TheThresholdIsChancePlusThreeStandardErrorsOfAChanceScore()
    {
        Assert.Equal(0.1 + 3 * 0.015, StartedGate.Threshold(0.1, 400), 12); // √(0.1 · 0.9 / 400) = 0.015
        Assert.Equal(0.5 + 3 * 0.05, StartedGate.Threshold(0.5, 100), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => StartedGate.Threshold(0, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => StartedGate.Threshold(0.1, 0));
    }

    [Fact]
    public void AScoreBelowTheThresholdHasNotStartedWhateverTheLoss()
    {
        double[] loss = [2.3, 2.0, 1.5, 1.1, 0.9, 0.85, 0.83];
        var why = StartedGate.NotStarted(Same(7, 0.14), loss, Same(7, 1e12), 0.145, "accuracy");
        Assert.Equal("its best accuracy 0.14 is below 0.145 (chance + 3 standard errors)", why);
        Assert.Null(StartedGate.NotStarted([0.12, 0.13, 0.14, 0.15, 0.16, 0.14, 0.15], loss, Same(7, 1e12), 0.145, "accuracy"));
        Assert.NotNull(StartedGate.NotStarted(Same(7, double.NaN), loss, Same(7, 1e12), 0.145, "accuracy")); // never scored
    }

    [Fact]
    public void ALossStillFallingFasterAndFasterIsInItsSteepestFall()
    {
        // log loss against log FLOPs steepening at every epoch: the steepest slope is the latest one
        double[] loss = [2.30, 2.29, 2.27, 2.22, 2.10, 1.85, 1.40];
        var why = StartedGate.NotStarted(Same(7, 0.5), loss, Same(7, 1e12), 0.145, "accuracy");
        Assert.StartsWith("its training loss is still in its steepest fall", why);
        // once it flattens, the steepest point lies behind
        Assert.Null(StartedGate.NotStarted(Same(10, 0.5), [.. loss, 1.10, 1.05, 1.03], Same(10, 1e12), 0.145, "accuracy"));
    }

    [Fact]
    public void TooFewEpochsToSmoothAndCompareSlopesHaveNotStarted()
    {
        // three smoothed points (over 3 epochs each) need 5 epochs
        Assert.StartsWith("too few epochs (4)", StartedGate.NotStarted(Same(4, 0.5), [2.3, 1.5, 1.0, 0.9], Same(4, 1e12), 0.145, "accuracy"));
        Assert.Throws<ArgumentException>(() => StartedGate.NotStarted(Same(4, 0.5), Same(3, 1.0), Same(4, 1e12), 0.145, "accuracy"));
    }
}
