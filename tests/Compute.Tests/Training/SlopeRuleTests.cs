using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Training;

/// <summary>The slope rule: a started phase ends once the next resolution lowers the evaluation loss more per FLOP than
/// the phase itself does, both measured by one probe from the same checkpoint for the same FLOPs.</summary>
public class SlopeRuleTests
{
    // Recorded: the generated six-class corpus (600 / 120 clips), pool-max C = 2 (budget 10) → C = 1, rule = slope,
    // seed 3 (2026-12-07). The probe after epoch 8 (accuracy 0.40, the gate passed): C = 2 continued for 20 steps, C = 1
    // through the transfer for 10 steps of the same FLOPs; the run then ended C = 2 after 9 epochs.
    static readonly ProbeMeasure RecordedHere = new(1.1733141660690307, 1.1415114323298137, 20, 8401121280);
    static readonly ProbeMeasure RecordedNext = new(1.1879941781361898, 1.0938613812128704, 10, 8565258240);

    [Fact]
    public void TheRecordedProbeFoundTheFinerResolutionFasterPerFlopAndEndedThePhase()
    {
        Assert.Equal(3.7855, RecordedHere.Slope * 1e12, 4);
        Assert.Equal(10.9901, RecordedNext.Slope * 1e12, 4);
        var verdict = SlopeRule.Decide(RecordedHere, RecordedNext);
        Assert.True(verdict.EndsPhase, verdict.Reason);
        Assert.Equal("for the same FLOPs, this phase lowered the eval loss 1.1733 → 1.1415 in 20 steps (3.7855/TFLOP) and the next " +
            "resolution 1.188 → 1.0939 in 10 steps (10.9901/TFLOP): end", verdict.Reason);
        // the other way round the phase goes on
        Assert.False(SlopeRule.Decide(RecordedNext, RecordedHere).EndsPhase);
    }

    // Recorded: BENCHMARKS (a), instruments, pool-max 4→2→1 v2, seed 2 (2026-12-07): the probe after C = 4's epoch 8.
    // The phase's own 26 steps raised its evaluation loss by 0.28 — at lr 1e-3 a burst moves the model more than the
    // two resolutions differ — and the rule, reading it as it must, ended the phase.
    static readonly ProbeMeasure InstrumentHere = new(1.442417424172163, 1.7180277183651924, 26, 28966699008);
    static readonly ProbeMeasure InstrumentNext = new(1.6795571260154247, 1.4884688071906567, 14, 29470113792);

    [Fact]
    public void TheRecordedInstrumentProbeWhoseOwnBurstWentUpEndedThePhase()
    {
        var verdict = SlopeRule.Decide(InstrumentHere, InstrumentNext);
        Assert.True(verdict.EndsPhase, verdict.Reason);
        Assert.Equal("for the same FLOPs, this phase lowered the eval loss 1.4424 → 1.718 in 26 steps (-9.5147/TFLOP) and the next " +
            "resolution 1.6796 → 1.4885 in 14 steps (6.4841/TFLOP): end", verdict.Reason);
        Assert.False(InstrumentHere.Learns);
        Assert.True(InstrumentNext.Learns);
    }

    [Fact]
    public void ABurstThatRaisedTheLossAtTheNextResolutionKeepsThePhaseGoing()
    {
        // a fresh optimiser's first steps can throw the carried-over weights off: the phase, still gaining a little, goes on
        var verdict = SlopeRule.Decide(new(1.20, 1.19, 20, 1e10), new(1.25, 1.30, 10, 1e10));
        Assert.False(verdict.EndsPhase, verdict.Reason);
        Assert.EndsWith("(-5/TFLOP): go on", verdict.Reason);
        // a phase that no longer gains (its burst made it worse too) ends if the next resolution is less bad
        Assert.True(SlopeRule.Decide(new(1.20, 1.26, 20, 1e10), new(1.25, 1.30, 10, 1e10)).EndsPhase);
    }

    [Fact]
    public void AProbeLearnsWhenItsBurstLowersTheLossByOnePercent()
    {
        Assert.True(new ProbeMeasure(2.0, 1.98, 8, 1e9).Learns);
        Assert.False(new ProbeMeasure(2.0, 1.981, 8, 1e9).Learns);
        Assert.False(new ProbeMeasure(2.3026, 2.3031, 8, 1e9).Learns); // at chance, a little worse: stuck
    }
}
