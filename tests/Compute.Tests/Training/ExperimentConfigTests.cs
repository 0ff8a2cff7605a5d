using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Training;

public class ExperimentConfigTests
{
    [Fact]
    public void DefaultIsValidAndComparesTheCurriculumWithTheBaseline()
    {
        var c = ExperimentConfig.Default().Validate();
        Assert.Equal([4, 2, 1], c.Curriculum.Select(p => p.Factor));
        Assert.All(c.Curriculum, p => Assert.Equal("pool", p.Method));
        var baseline = Assert.Single(c.Compare!);
        Assert.Equal(1, Assert.Single(baseline).Factor);
        Assert.Equal(c.Curriculum.Sum(p => p.Epochs), baseline.Sum(p => p.Epochs));
        Assert.Equal(2, c.Runs().Count);
    }

    [Fact]
    public void LabelsNameTheBaselineAndTheSchedule()
    {
        var c = ExperimentConfig.Default();
        Assert.Equal("pool-max 4→2→1", ExperimentConfig.Label(c.Curriculum));
        Assert.Equal("baseline", ExperimentConfig.Label(c.Compare![0]));
        Assert.Equal("fshift 2→1", ExperimentConfig.Label([new PhaseConfig("fshift", 2, "max", 1, 1e-4, 0), new PhaseConfig("pool", 1, "max", 1, 1e-4, 0)]));
    }

    [Fact]
    public void HashIsStableThroughJsonAndChangesWithAnyValue()
    {
        var c = ExperimentConfig.Default();
        var roundTrip = ExperimentConfig.FromJson(c.ToJson());
        Assert.Equal(c.Hash(), roundTrip.Hash());
        Assert.Equal(64, c.Hash().Length);
        Assert.NotEqual(c.Hash(), (c with { Training = c.Training with { BatchSize = 17 } }).Hash());
        Assert.NotEqual(c.Hash(), (c with { Curriculum = [c.Curriculum[0] with { Lr = 2e-3 }, .. c.Curriculum.Skip(1)] }).Hash());
    }

    public static TheoryData<string, Func<ExperimentConfig, ExperimentConfig>> BadValues => new()
    {
        { "training.batch-size", c => c with { Training = c.Training with { BatchSize = 0 } } },
        { "training.lr-decay.gamma", c => c with { Training = c.Training with { LrDecayGamma = 1.5 } } },
        { "model.heads", c => c with { Model = c.Model with { Heads = 5 } } },
        { "model.size", c => c with { Model = c.Model with { Size = "huge" } } },
        { "front-end.mixup", c => c with { FrontEnd = c.FrontEnd with { Mixup = 2 } } },
        { "front-end.std", c => c with { FrontEnd = c.FrontEnd with { Std = 0 } } },
        { "data.train", c => c with { Data = c.Data with { Source = DataSource.Datafile } } },
        { "curriculum[1].method", c => c with { Curriculum = [c.Curriculum[0], c.Curriculum[1] with { Method = "zip" }, c.Curriculum[2]] } },
        { "curriculum[0].factor", c => c with { Curriculum = [c.Curriculum[0] with { Factor = 64 }, c.Curriculum[1], c.Curriculum[2]] } },
        { "curriculum[1].factor", c => c with { Curriculum = [c.Curriculum[0], c.Curriculum[1]] } },
        { "curriculum", c => c with { Curriculum = [] } },
        { "compare[0][0].epochs", c => c with { Compare = [[c.Compare![0][0] with { Epochs = 0 }]] } },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void ValidateNamesTheBadKey(string key, Func<ExperimentConfig, ExperimentConfig> spoil)
    {
        var e = Assert.Throws<ConfigException>(() => spoil(ExperimentConfig.Default()).Validate());
        Assert.Equal(key, e.Key);
        Assert.StartsWith(key + ": ", e.Message);
    }
}
