using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Training;

public class LrScheduleTests
{
    [Fact]
    public void WarmupFollowsTheReferenceEvery50StepsOf1000()
    {
        var s = new LrSchedule(new LrScheduleSettings(BaseLr: 1e-3, WarmupSteps: 1000, DecayStart: 2, DecayStep: 1, Gamma: 0.5));
        var lrs = Enumerable.Range(0, 1200).Select(_ => s.NextStep()).ToArray();
        Assert.Equal(0, lrs[0]);                     // reference: step 0 sets lr = 0/1000·lr
        Assert.Equal(0, lrs[49]);
        Assert.Equal(50.0 / 1000 * 1e-3, lrs[50], 15);
        Assert.Equal(50.0 / 1000 * 1e-3, lrs[99], 15);
        Assert.Equal(500.0 / 1000 * 1e-3, lrs[520], 15);
        Assert.Equal(1e-3, lrs[1000], 15);
        Assert.Equal(1e-3, lrs[1199], 15);
        Assert.Equal(1200, s.State.Step);
    }

    [Fact]
    public void ShortWarmupScalesTheIntervalAndZeroMeansNone()
    {
        var s = new LrSchedule(new LrScheduleSettings(1.0, WarmupSteps: 40, DecayStart: 5, DecayStep: 1, Gamma: 0.5));
        Assert.Equal(2, s.WarmupInterval);
        var lrs = Enumerable.Range(0, 45).Select(_ => s.NextStep()).ToArray();
        Assert.Equal([0, 0, 0.05, 0.05, 0.1], lrs[..5]);
        Assert.Equal(1.0, lrs[40]);
        var none = new LrSchedule(new LrScheduleSettings(0.25, WarmupSteps: 0, DecayStart: 5, DecayStep: 1, Gamma: 0.5));
        Assert.Equal(0.25, none.NextStep());
    }

    [Fact]
    public void MultiStepDecayPerEpochFromStartEveryStep()
    {
        // ESC-50 / Speech Commands reference: milestones range(5, 1000, 1), gamma 0.85.
        var s = new LrSchedule(new LrScheduleSettings(1e-3, 0, DecayStart: 5, DecayStep: 1, Gamma: 0.85));
        var perEpoch = Enumerable.Range(1, 7).Select(_ => s.EndEpoch()).ToArray();
        Assert.Equal(1e-3, perEpoch[3], 15);                // after epoch 4: unchanged
        Assert.Equal(1e-3 * 0.85, perEpoch[4], 15);         // after epoch 5: first milestone
        Assert.Equal(1e-3 * 0.85 * 0.85 * 0.85, perEpoch[6], 15);
        // AudioSet balanced: range(10, 1000, 5) → decays after epochs 10, 15.
        var b = new LrSchedule(new LrScheduleSettings(1.0, 0, DecayStart: 10, DecayStep: 5, Gamma: 0.5));
        var lr = Enumerable.Range(1, 16).Select(_ => b.EndEpoch()).ToArray();
        Assert.Equal(1.0, lr[8]);
        Assert.Equal(0.5, lr[9]);
        Assert.Equal(0.5, lr[13]);
        Assert.Equal(0.25, lr[14]);
    }

    [Fact]
    public void RestoredStateContinuesExactlyAsAnUninterruptedSchedule()
    {
        var settings = new LrScheduleSettings(2e-4, 100, 1, 1, 0.9);
        var whole = new LrSchedule(settings);
        var first = new LrSchedule(settings);
        var expected = new List<double>();
        var actual = new List<double>();
        for (int epoch = 0; epoch < 3; epoch++)
        {
            for (int i = 0; i < 37; i++) expected.Add(whole.NextStep());
            expected.Add(whole.EndEpoch());
        }
        for (int i = 0; i < 37; i++) actual.Add(first.NextStep());
        actual.Add(first.EndEpoch());
        for (int i = 0; i < 20; i++) actual.Add(first.NextStep());
        // through JSON, as a checkpoint stores it
        var json = System.Text.Json.JsonSerializer.Serialize(first.State);
        var resumed = new LrSchedule(settings, System.Text.Json.JsonSerializer.Deserialize<LrScheduleState>(json));
        for (int i = 0; i < 17; i++) actual.Add(resumed.NextStep());
        actual.Add(resumed.EndEpoch());
        for (int i = 0; i < 37; i++) actual.Add(resumed.NextStep());
        actual.Add(resumed.EndEpoch());
        Assert.Equal(expected, actual);
        Assert.Equal(whole.State, resumed.State);
    }

    [Theory]
    [InlineData(45)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(1)]
    public void WarmupReachesThePeakForAnyLength(int warmup)
    {
        var schedule = new LrSchedule(new LrScheduleSettings(1e-3, warmup, 100, 1, 0.5));
        var lrs = Enumerable.Range(0, warmup + 5).Select(_ => schedule.NextStep()).ToArray();
        Assert.Equal(1e-3, lrs[warmup], 12);  // the step after W steps runs at the peak
        Assert.Equal(1e-3, lrs[^1], 12);
        Assert.True(lrs.Take(warmup).All(lr => lr < 1e-3), "below the peak during warm-up");
    }
    [Fact]
    public void TheContinuousScheduleWarmsUpOnceStaysConstantAndCoolsDownOverTheRunsLastFlops()
    {
        // the first phase: its warm-up, then the rate for every step, no per-epoch decay
        var first = new LrSchedule(LrScheduleSettings.Continuous(1e-3, 20, firstPhase: true, lastPhase: false, 0.2, 0, 100, 0.25));
        var lrs = Enumerable.Range(0, 100).Select(_ => first.NextStep()).ToList();
        Assert.Equal(0, lrs[0]);
        Assert.All(lrs.Skip(20), lr => Assert.Equal(1e-3, lr));
        for (int epoch = 0; epoch < 30; epoch++) Assert.Equal(1e-3, first.EndEpoch());

        // a middle phase: no warm-up again
        var middle = new LrSchedule(LrScheduleSettings.Continuous(1e-3, 20, firstPhase: false, lastPhase: false, 0.2, 25, 100, 0.5));
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(1e-3, middle.NextStep()));

        // the last phase: 40 FLOPs before it and 100 steps of 0.6 make a run of 100; its last 20 % are 20 FLOPs, 33 steps
        var settings = LrScheduleSettings.Continuous(1e-3, 20, firstPhase: false, lastPhase: true, 0.2, 40, 100, 0.6);
        Assert.Equal((67L, 33L), (settings.CoolDownFrom, settings.CoolDownSteps));
        var last = new LrSchedule(settings);
        lrs = Enumerable.Range(0, 100).Select(_ => last.NextStep()).ToList();
        Assert.All(lrs.Take(68), lr => Assert.Equal(1e-3, lr));
        Assert.Equal(1e-3 * (1 - 32.0 / 33), lrs[99], 15);
        Assert.True(lrs.Skip(67).Zip(lrs.Skip(68)).All(p => p.Second < p.First), "the cool-down falls at every step");

        // a cool-down longer than the last phase spans all of it; resumed mid-way it goes on exactly as before
        var whole = LrScheduleSettings.Continuous(1e-3, 20, firstPhase: false, lastPhase: true, 0.9, 40, 100, 0.6);
        Assert.Equal((0L, 100L), (whole.CoolDownFrom, whole.CoolDownSteps));
        var resumed = new LrSchedule(settings, new LrScheduleState(80, 3, 0));
        Assert.Equal(lrs[80], resumed.NextStep());
    }
}
