using ActorTraining.Compute.Training;
using ActorTraining.Host.Configuration;

namespace ActorTraining.Host.Tests.Configuration;

public sealed class ExperimentConfigLoaderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("experiment-config-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string hocon)
    {
        var path = Path.Combine(_dir, $"exp{Guid.NewGuid():N}.hocon");
        File.WriteAllText(path, hocon);
        return path;
    }

    static Dictionary<string, string> Set(params string[] kv) => new(ExperimentConfigLoader.ParseOverrides(kv));

    [Fact]
    public void TheHashIgnoresKeyOrderWorkersRecoveryAndDataLocationButNotWhatChangesResults()
    {
        var a = Write("training { seed = 4, batch-size = 8 }\ndata { source = datafile, train = /x/train.json, eval = /x/eval.json, labels = /x/l.csv }");
        var b = Write("data { labels = /y/l.csv, eval = /y/eval.json, train = /y/train.json, source = datafile }\n" +
            "training { batch-size = 8, seed = 4, num-workers = 7, max-restarts = 9, stall-timeout-seconds = 60, restart-backoff-seconds = 1 }");
        var hash = ExperimentConfigLoader.Load(a).Hash();
        Assert.Equal(hash, ExperimentConfigLoader.Load(b).Hash());
        Assert.NotEqual(hash, ExperimentConfigLoader.Load(a, Set("training.seed=5")).Hash());
        Assert.NotEqual(hash, ExperimentConfigLoader.Load(a, Set("training.optimizer=adamw")).Hash());
        // the scheduler's keys count only when it is adaptive
        Assert.Equal(hash, ExperimentConfigLoader.Load(a, Set("training.adaptive.patience=5")).Hash());
        var adaptive = ExperimentConfigLoader.Load(a, Set("training.phase-scheduler=adaptive")).Hash();
        Assert.NotEqual(hash, adaptive);
        Assert.NotEqual(adaptive, ExperimentConfigLoader.Load(a, Set("training.phase-scheduler=adaptive", "training.adaptive.patience=5")).Hash());
        // weight averaging changes the run's result (its final checkpoint); off, it is not in the identity at all
        var averaged = ExperimentConfigLoader.Load(a, Set("training.weight-averaging.start=2", "training.weight-averaging.end=5"));
        Assert.Equal(new WeightAveragingConfig(2, 5), averaged.Training.Averaging);
        Assert.NotEqual(hash, averaged.Hash());
        Assert.DoesNotContain("Averaging", ExperimentConfigLoader.Load(a).ToJson());
        // likewise the continuous learning-rate schedule: its cool-down counts only when it is on
        Assert.Equal(hash, ExperimentConfigLoader.Load(a, Set("training.cool-down=0.3")).Hash());
        var continuous = ExperimentConfigLoader.Load(a, Set("training.lr-schedule=continuous")).Hash();
        Assert.NotEqual(hash, continuous);
        Assert.NotEqual(continuous, ExperimentConfigLoader.Load(a, Set("training.lr-schedule=continuous", "training.cool-down=0.3")).Hash());
        // progressive regularisation changes what each phase trains on; constant (the default) leaves the identity as it was
        Assert.Equal(hash, ExperimentConfigLoader.Load(a, Set("front-end.regularisation=constant")).Hash());
        Assert.NotEqual(hash, ExperimentConfigLoader.Load(a, Set("front-end.regularisation=progressive")).Hash());
        // the adaptive rule and its probe budget are the journal's at the run's start, like the started gate
        Assert.Equal(adaptive, ExperimentConfigLoader.Load(a, Set("training.phase-scheduler=adaptive", "training.adaptive.rule=slope",
            "training.adaptive.probe-budget=0.02")).Hash());
    }

    [Fact]
    public void TheShippedDefaultFileIsTheBuiltInDefault()
    {
        var fromFile = ExperimentConfigLoader.Load(null);
        Assert.Equal(ExperimentConfig.Default().ToJson(), fromFile.ToJson());
        Assert.Equal(ExperimentConfig.Default().Hash(), fromFile.Hash());
        // and the repository copy is the embedded one
        var repoCopy = Path.Combine(AppContext.BaseDirectory, "../../../../../configs/default.hocon");
        Assert.Equal(File.ReadAllText(repoCopy), ExperimentConfigLoader.DefaultHocon);
    }

    [Fact]
    public void AFileSetsOnlyWhatItChangesAndResolvesPathsAgainstItsFolder()
    {
        var path = Write("""
            data { source = datafile, train = "lists/train.json", eval = lists/eval.json, labels = /abs/labels.csv }
            model.size = tiny
            training { batch-size = 12, loss = bce, lr-decay.gamma = 0.5 }
            curriculum = [ { method = fshift, factor = 2, epochs = 3 }, { factor = 1, epochs = 2, lr = 5e-5, warmup-steps = 1000 } ]
            compare = []
            akka.loglevel = DEBUG
            """);
        var c = ExperimentConfigLoader.Load(path);
        Assert.Equal(Path.Combine(_dir, "lists/train.json"), c.Data.TrainDatafile);
        Assert.Equal(Path.Combine(_dir, "lists/eval.json"), c.Data.EvalDatafile);
        Assert.Equal("/abs/labels.csv", c.Data.LabelCsv);
        Assert.Equal((192, 12, 3), (c.Model.EmbedDim, c.Model.Depth, c.Model.Heads));
        Assert.Equal(12, c.Training.BatchSize);
        Assert.Equal(LossKind.BinaryCrossEntropy, c.Training.LossKind);
        Assert.Equal("map", c.Training.ResolvedMetric);
        Assert.Equal(0.5, c.Training.LrDecayGamma);
        Assert.Equal(5, c.Training.LrDecayStart);                  // untouched keys keep the default
        Assert.Equal(new PhaseConfig("fshift", 2, "max", 3, 5e-4, 20), c.Curriculum[0]);   // lr/warmup from training.*
        Assert.Equal(new PhaseConfig("pool", 1, "max", 2, 5e-5, 1000), c.Curriculum[1]);
        Assert.Empty(c.Compare!);
        Assert.Null(c.Model.Init);
    }

    [Fact]
    public void AnInitFileResolvesAgainstTheFileThatNamesItAndCarriesItsHash()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "weights"));
        var weights = Path.Combine(_dir, "weights", "deit.pth");
        File.WriteAllBytes(weights, [1, 2, 3]);
        var c = ExperimentConfigLoader.Load(Write("model.init = \"deit:weights/deit.pth\""));
        Assert.Equal(new Compute.Model.ModelInit(Compute.Model.ModelInitKind.DeiT, weights,
            "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"), c.Model.Init); // sha256 of 01 02 03
    }

    [Fact]
    public void OverridesWinOverTheFileAndTakeListsNumbersAndPaths()
    {
        var path = Write("training.batch-size = 12");
        var c = ExperimentConfigLoader.Load(path, Set(
            "training.batch-size=8",
            "front-end.mean=-6.8",
            "data.source=datafile", "data.train=corpus//a:b.json", "data.eval=/e.json", "data.labels=l.csv",
            "curriculum=[{method=patch, factor=2, epochs=1}, {factor=1, epochs=1}]",
            "compare=[[{factor=1, epochs=2}], [{method=pool, pooling=avg, factor=2, epochs=1}, {factor=1, epochs=1}]]"));
        Assert.Equal(8, c.Training.BatchSize);
        Assert.Equal(-6.8, c.FrontEnd.Mean);
        Assert.Equal(Path.GetFullPath("corpus//a:b.json"), c.Data.TrainDatafile);   // --set paths: working directory
        Assert.Equal(["patch", "pool"], c.Curriculum.Select(p => p.Method));
        Assert.Equal(2, c.Compare!.Count);
        Assert.Equal("avg", c.Compare[1][0].Pooling);
        Assert.Equal(3, c.Runs().Count);
    }

    [Theory]
    [InlineData("training.batch-sise = 3", "training.batch-sise", "did you mean training.batch-size?")]
    [InlineData("trainning { seed = 3 }", "trainning", "did you mean training?")]
    [InlineData("model.depthh = 3", "model.depthh", "unknown key")]
    [InlineData("training.batch-size = lots", "training.batch-size", "must be an integer, got 'lots'")]
    [InlineData("training.batch-size = 0", "training.batch-size", "must be between 1 and 65536, got 0")]
    [InlineData("front-end.mixup = half", "front-end.mixup", "must be a number")]
    [InlineData("training.eval-every-epoch = true", "training.eval-every-epoch", "unknown key")]
    [InlineData("training.max-restarts = many", "training.max-restarts", "must be an integer")]
    [InlineData("training.optimizer = sgd", "training.optimizer", "adam or adamw")]
    [InlineData("training.loss = mse", "training.loss", "must be bce or ce, got 'mse'")]
    [InlineData("data.source = ftp", "data.source", "must be synthetic, datafile, folder or shards, got 'ftp'")]
    [InlineData("data.cache.precision = float8", "data.cache.precision", "must be float32 or float16, got 'float8'")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.budget = hours }", "training.adaptive.budget", "must be flops or epochs, got 'hours'")]
    [InlineData("data.sampler = weighted", "data.sampler", "shuffle or balanced")]
    [InlineData("training.lr-schedule = linear", "training.lr-schedule", "must be per-phase or continuous, got 'linear'")]
    [InlineData("training { lr-schedule = continuous, cool-down = 1.5 }", "training.cool-down", "must be > 0 and at most 1")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.started-gate = maybe }", "training.adaptive.started-gate", "maybe")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.rule = steepest }", "training.adaptive.rule", "must be gain or slope, got 'steepest'")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.probe-budget = 0.05 }", "training.adaptive.probe-budget", "must be in (0, 0.02]")]
    [InlineData("front-end.regularisation = rising", "front-end.regularisation", "must be constant or progressive, got 'rising'")]
    [InlineData("model.architecture = swin", "model.architecture", "must be ast or htsat, got 'swin'")]
    [InlineData("model { architecture = htsat, depth = 4 }", "model.depth", "is an AST key; with model.architecture = htsat the sizes are model.htsat's")]
    [InlineData("model { architecture = htsat, target-length = 200 }", "model.target-length", "frames a multiple of 128")]
    [InlineData("model { architecture = htsat, htsat.heads = [4, 8, 16] }", "model.htsat.heads", "one per stage of depths [2, 2, 6, 2]")]
    [InlineData("model { architecture = htsat, htsat.heads = [4, 8, 16, 30] }", "model.htsat.heads", "stage 4's 30 heads do not divide its width 768")]
    [InlineData("model.architecture = htsat\ncurriculum = [ { factor = 4, epochs = 1 }, { factor = 1, epochs = 1 } ]", "curriculum[0].factor", "4 (pool) does not fit: HTS-AT frames 64")]
    [InlineData("training.objective = mae", "training.objective", "must be supervised or ssast-pretrain, got 'mae'")]
    [InlineData("training.objective = ssast-pretrain\nmodel.architecture = htsat", "training.objective", "ssast-pretrain pretrains an AST")]
    [InlineData("training.objective = ssast-pretrain\nmodel.tstride = 10", "model.tstride", "SSAST pretrains on patches without overlap: strides 16/10")]
    [InlineData("training.objective = ssast-pretrain\ntraining.ssast.mask-ratio = 1", "training.ssast.mask-ratio", "between 0 and 1")]
    [InlineData("training.objective = ssast-pretrain\ntraining.metric = map", "training.metric", "pretext_accuracy while pretraining")]
    [InlineData("training.objective = ssast-pretrain\ncurriculum = [ { method = patch, factor = 2, epochs = 1 }, { factor = 1, epochs = 1 } ]", "curriculum[0].method", "patch phases change the patch SSAST's heads reconstruct")]
    [InlineData("training.objective = ssast-pretrain\ncurriculum = [ { factor = 3, epochs = 1 }, { factor = 1, epochs = 1 } ]", "curriculum[0].factor", "3 leaves 85 frames; SSAST pretraining needs whole patches of 16 frames")]
    [InlineData("model { patch-size = 64, patch-time = 2, fstride = 64, tstride = 3 }", "model.tstride", "must be <= the patch's time side (2), got 3")]
    [InlineData("model.pooling = max", "model.pooling", "must be cls or mean-tokens, got 'max'")]
    [InlineData("model { architecture = htsat, pooling = mean-tokens }", "model.pooling", "is an AST key")]
    [InlineData("training.objective = ssast-pretrain\nmodel { fstride = 16, tstride = 16, pooling = mean-tokens }", "model.pooling", "SSAST pretraining (training.objective = ssast-pretrain) has no classifier")]
    [InlineData("training.weight-averaging { start = 0, end = 3 }", "training.weight-averaging.start", "must not be 0")]
    [InlineData("training.weight-averaging { start = 4, end = 3 }", "training.weight-averaging.end", "is 3, before training.weight-averaging.start (4)")]
    [InlineData("training.weight-averaging { start = 2, end = 7 }", "training.weight-averaging.end", "is 7, outside the 6 epochs of the last phase of curriculum")]
    [InlineData("training.weight-averaging { start = -7, end = -1 }", "training.weight-averaging.start", "is -7, outside the 6 epochs")]
    [InlineData("training.weight-averaging { start = 2, end = 4 }\ncompare = [ [ { factor = 1, epochs = 3 } ] ]", "training.weight-averaging.end", "is 4, outside the 3 epochs of the last phase of compare[0]")]
    [InlineData("data.sample-weights = \"w.csv\"", "data.sample-weights", "only with data.sampler = balanced")]
    [InlineData("data { sampler = balanced, sample-weights = \"missing.csv\" }", "data.sample-weights", "missing.csv: no such file")]
    [InlineData("model.init = \"imagenet\"", "model.init", "must be none, deit:<file>, ast:<file>, hf:<folder>, checkpoint:<file> or htsat:<file>")]
    [InlineData("model.init = \"ast:weights/missing.pth\"", "model.init", "weights/missing.pth: no such file")]
    [InlineData("training.stall-timeout-seconds = 0", "training.stall-timeout-seconds", "at least 1")]
    [InlineData("training.loss = hinge", "training.loss", "bce or ce")]
    [InlineData("training = 3", "training", "is a section")]
    [InlineData("model.size = tiny\nmodel.embed-dim = 64", "model.embed-dim", "model.size = custom")]
    [InlineData("curriculum = [ { factor = 2, epochs = 1 }, { factor = 1 } ]", "curriculum[1].epochs", "is required")]
    [InlineData("curriculum = [ { factor = 1, epochs = 1, speed = 3 } ]", "curriculum[0].speed", "unknown phase key")]
    [InlineData("curriculum = [ { factor = x, epochs = 1 } ]", "curriculum[0].factor", "must be an integer")]
    [InlineData("curriculum = [ { factor = 2, epochs = 1 } ]", "curriculum[0].factor", "full resolution")]
    [InlineData("curriculum = [ { method = squash, factor = 1, epochs = 1 } ]", "curriculum[0].method", "fshift, pool or patch")]
    [InlineData("compare = [ [ { factor = 1, epochs = 0 } ] ]", "compare[0][0].epochs", "must be between 1 and 1000000, got 0")]
    [InlineData("compare = [ { factor = 1, epochs = 1 } ]", "compare[0]", "must be a list")]
    [InlineData("curriculum = 4", "curriculum", "must be a list")]
    [InlineData("data.source = datafile", "data.train", "required")]
    [InlineData("training.phase-scheduler = sometimes", "training.phase-scheduler", "fixed or adaptive")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.min-epochs = 1 }", "training.adaptive.min-epochs", "between 2 and")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.signal = loss }", "training.adaptive.signal", "metric or eval-loss")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.budget = hours }", "training.adaptive.budget", "flops or epochs")]
    [InlineData("training { phase-scheduler = adaptive, adaptive.expected-gain = 0 }", "training.adaptive.expected-gain", "> 0")]
    public void BadKeysAndValuesAreErrorsNamingTheFullKey(string hocon, string key, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => ExperimentConfigLoader.Load(Write(hocon)));
        Assert.Equal(key, e.Key);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void BadOverridesNameTheKeyToo()
    {
        Assert.Equal("training.batch-sise", Assert.Throws<ConfigException>(() => ExperimentConfigLoader.Load(null, Set("training.batch-sise=4"))).Key);
        Assert.Equal("training.seed", Assert.Throws<ConfigException>(() => ExperimentConfigLoader.Load(null, Set("training.seed=abc"))).Key);
        Assert.Equal("noequals", Assert.Throws<ConfigException>(() => ExperimentConfigLoader.ParseOverrides(["noequals"])).Key);
    }

    [Fact]
    public void MissingFileAndBrokenHoconNameTheFile()
    {
        var missing = Path.Combine(_dir, "nope.hocon");
        Assert.Equal(missing, Assert.Throws<ConfigException>(() => ExperimentConfigLoader.Load(missing)).Key);
        // Akka's HOCON parser is lenient (unclosed braces parse); an unresolved substitution is one thing it rejects.
        var broken = Write("training.batch-size = ${nowhere}");
        var e = Assert.Throws<ConfigException>(() => ExperimentConfigLoader.Load(broken));
        Assert.Equal(broken, e.Key);
        Assert.Contains("not valid HOCON", e.Message);
    }
}
