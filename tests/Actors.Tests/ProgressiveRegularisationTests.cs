using ActorTraining.Compute.Compression;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>front-end.regularisation = progressive: a phase of factor C trains with 1/C of the SpecAugment widths and of
/// the mixup probability; constant (and every evaluation) as configured.</summary>
public class ProgressiveRegularisationTests
{
    static (int FreqMask, int TimeMask, double Mixup) Of(ExperimentConfig config, int factor, bool training = true)
    {
        var phase = new PhasePlan(0, new Compression(CompressionMethod.Pool, factor, PoolingKind.Max), 1, 1e-3, 0, config.Model.TargetLength / factor);
        var spec = RunSettings.PipelineOf(config, phase, [], new LabelSet(["a", "b"], ["a", "b"]), training, 1, DataShare.Whole(8));
        return (spec.FreqMask, spec.TimeMask, spec.MixupProbability);
    }

    [Fact]
    public void ACoarsePhaseRegularisesLessAndTheFullResolutionAsConfigured()
    {
        var defaults = ExperimentConfig.Default();
        var constant = defaults with { FrontEnd = defaults.FrontEnd with { FreqM = 24, TimeM = 48, Mixup = 0.5 } };
        var progressive = constant with { FrontEnd = constant.FrontEnd with { Progressive = true } };
        Assert.Equal((24, 12, 0.5), Of(constant, 4));     // the time mask in compressed frames: 48 / 4
        Assert.Equal((6, 3, 0.125), Of(progressive, 4));  // a quarter: 6 bins, 12 fine frames = 3 compressed, mixup 0.125
        Assert.Equal((12, 12, 0.25), Of(progressive, 2));
        Assert.Equal((24, 48, 0.5), Of(progressive, 1));
    }
}
