using ActorTraining.Compute.Features;
using ActorTraining.Compute.Training;
using ActorTraining.Host.Configuration;

namespace ActorTraining.Host.Tests.Configuration;

/// <summary>
/// The run identity is resumed against: these hashes were computed by the build before the identity became its own
/// type (main at 91d3d2a), so every run directory of that build resumes. A field added to the configuration, or listed
/// in the identity, must leave all of them as they are. Those runs started with a float32 feature cache, the default
/// then; with float16 the default now, the same configuration resumes them as they started (<see cref="ExperimentConfig.AsStarted"/>).
/// </summary>
public sealed class ConfigIdentityTests
{
    public static TheoryData<string?, string[], string> Pinned => new()
    {
        { null, [], "81e19f411aa51e60e15819219e10aa17f7f8e332105039ae14d90c7c8d4c4c64" },
        { "journal-v1", [], "8bc41358b5ac849709a2ce352a896b834c786c7c1c8bfad71e353167e1cf5e65" },
        { null, ["training.phase-scheduler=adaptive"], "f18c06ac1d5d9ee8e15516749354fda53d89d81b9490b34fbb6d0042a7f4df42" },
        { null, ["training.weight-averaging.start=-2", "training.weight-averaging.end=-1"], "cf61754c45c29c445253da2ad75ec1eb759e7dcced46412173c9ef43c93e0b84" },
        { null, ["data.cache.precision=float16"], "9ab706628ba415d26b63aa42fb221aefafa6edf39c0a8ec6e32f2cc29194f305" },
        { null, ["training.clip-grad-norm=5"], "35e8196fa8b06ca494d75c22726c61c03c39d67454563983d940492ca8a272cd" },
        { null, ["data.sampler=balanced"], "442cacd80d2101b6d513e92d8b216037174d8946365e758558a3d0c8a445a074" },
        { null, ["model.patch-time=8", "model.tstride=8"], "8de4e7f0b0c8209a47350e7055a5d11bc74047503d7d468ef78ab606e1865b6e" },
        { null, ["model.architecture=htsat", "model.target-length=512"], "85e40cc2f4092ff3438780adecaa83aeb56792264429b0c63bd13e7dedc9d47f" },
        { null, ["training.objective=ssast-pretrain", "model.fstride=16", "model.tstride=16"], "070ea6fb613cde7dd5f86b5543e4798c75dc304ae360a2ebfe42295c5dafe97d" },
        { null, ["curriculum=[{method=fshift,factor=2,epochs=1},{method=pool,factor=1,epochs=1}]"], "8045665cf61307dfe6d579c6d8452d49112a8908538a4f23b68e5dfeb407a668" },
        // not in the identity: the devices, the workers, the recovery settings
        { null, ["training.devices=[cpu,cpu]", "training.num-workers=3", "training.max-restarts=9"], "81e19f411aa51e60e15819219e10aa17f7f8e332105039ae14d90c7c8d4c4c64" },
    };

    [Theory]
    [MemberData(nameof(Pinned))]
    public void TheIdentityOfEveryKindOfRunIsTheOneItsRunDirectoryWasStartedWith(string? fixture, string[] set, string hash)
    {
        var file = fixture is null ? null : Path.Combine(AppContext.BaseDirectory, "fixtures", fixture, "experiment.hocon");
        var config = ExperimentConfigLoader.Load(file, ExperimentConfigLoader.ParseOverrides(set));
        var started = config.AsStarted(hash);
        Assert.Equal(hash, started.Hash());
        // the float32 runs of earlier builds keep float32; a run that said float16 keeps it
        Assert.Equal(set.Contains("data.cache.precision=float16") ? FeaturePrecision.Float16 : FeaturePrecision.Float32, started.Data.ResolvedCache.Precision);
    }

    [Fact]
    public void ANewRunWithTheDefaultsHasAFloat16CacheAndNeverTakesFloat32ForAnotherRunsHash()
    {
        var config = ExperimentConfigLoader.Load(null, ExperimentConfigLoader.ParseOverrides([]));
        Assert.Equal(FeaturePrecision.Float16, config.Data.ResolvedCache.Precision);
        Assert.Equal("9ab706628ba415d26b63aa42fb221aefafa6edf39c0a8ec6e32f2cc29194f305", config.Hash()); // the pinned float16 run's
        Assert.Same(config, config.AsStarted(config.Hash()));
        Assert.Same(config, config.AsStarted("f18c06ac1d5d9ee8e15516749354fda53d89d81b9490b34fbb6d0042a7f4df42")); // another run's: refused by the caller
        var explicitFloat32 = ExperimentConfigLoader.Load(null, ExperimentConfigLoader.ParseOverrides(["data.cache.precision=float32"]));
        Assert.Same(explicitFloat32, explicitFloat32.AsStarted(config.Hash())); // float32 never becomes float16
    }

    [Fact]
    public void MeanTokensPoolingIsAnotherRunAndClsSaidExplicitlyIsTheDefaultsRun()
    {
        var defaults = ExperimentConfigLoader.Load(null, ExperimentConfigLoader.ParseOverrides([]));
        var cls = ExperimentConfigLoader.Load(null, ExperimentConfigLoader.ParseOverrides(["model.pooling=cls"]));
        var mean = ExperimentConfigLoader.Load(null, ExperimentConfigLoader.ParseOverrides(["model.pooling=mean-tokens"]));
        Assert.Equal(defaults.Hash(), cls.Hash());
        Assert.Equal(ActorTraining.Compute.Model.AstPooling.MeanTokens, mean.Model.Pooling);
        Assert.NotEqual(defaults.Hash(), mean.Hash());
    }

    [Fact]
    public void OnlyTheListedFieldsAreInTheIdentity()
    {
        var config = ExperimentConfig.Default();
        var withoutSeed = new ConfigIdentity.Fields();
        foreach (var (name, inner) in ConfigIdentity.V1) withoutSeed[name] = inner;
        var training = new ConfigIdentity.Fields();
        foreach (var (name, inner) in ConfigIdentity.V1["Training"]!.Where(f => f.Key != "Seed")) training[name] = inner;
        withoutSeed["Training"] = training;
        Assert.Contains("\"Seed\":1,", ConfigIdentity.Json(config, ConfigIdentity.V1));
        Assert.Equal(ConfigIdentity.Json(config, withoutSeed), ConfigIdentity.Json(config with { Training = config.Training with { Seed = 99 } }, withoutSeed));
    }
}
