using ActorTraining.Compute.Data.Shards;
using System.Globalization;
using System.Text.Json;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace ActorTraining.Host.Configuration;

/// <summary>
/// Reads an experiment: the built-in configs/default.hocon, then the user's HOCON file over it, then CLI
/// overrides (<c>key=value</c>, later ones win). Every key the user or an override sets must exist in the
/// default file (except a top-level <c>akka</c> section, which belongs to the actor system); every value is
/// type-checked and then <see cref="ExperimentConfig.Validate"/>d. Errors are <see cref="ConfigException"/>s
/// naming the full key path, e.g. <c>training.batch-size</c> or <c>curriculum[1].factor</c>.
/// </summary>
public static class ExperimentConfigLoader
{
    /// <summary>An experiment file is a page of keys; anything far larger is the wrong file.</summary>
    const long MaxFileBytes = 16 << 20;
    const string DefaultResource = "ActorTraining.Host.configs.default.hocon";
    static readonly string[] PhaseKeys = ["method", "factor", "pooling", "epochs", "lr", "warmup-steps"];
    static readonly string[] PathKeys = ["data.train", "data.eval", "data.labels", "data.folder", "data.cache.dir"];

    /// <summary>The text of configs/default.hocon (embedded in the executable).</summary>
    public static string DefaultHocon { get; } = ReadDefault();

    public static ExperimentConfig Load(string? hoconPath, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var defaults = ConfigurationFactory.ParseString(DefaultHocon);
        var layers = new List<(Config Config, string? BaseDir, string Source)>();
        if (hoconPath is not null)
        {
            var full = Path.GetFullPath(hoconPath);
            if (Compute.Data.InputFile.Problem(full, MaxFileBytes) is { } problem) throw new ConfigException(hoconPath, problem);
            if (!File.Exists(full)) throw new ConfigException(hoconPath, "experiment file not found");
            layers.Add((Parse(File.ReadAllText(full), full), Path.GetDirectoryName(full), full));
        }
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
            layers.Add((Parse($"{key} = {HoconLiteral(value)}", $"--set {key}={value}"), Environment.CurrentDirectory, $"--set {key}"));

        var known = defaults.Root.GetObject();
        foreach (var layer in layers) CheckKnown(layer.Config.Root.GetObject(), known, "");

        var merged = defaults;
        foreach (var layer in layers) merged = layer.Config.WithFallback(merged);
        var reader = new Reader(merged);

        var size = reader.String("model.size");
        var preset = ModelConfig.Preset(size);
        if (preset is not null)
            foreach (var key in new[] { "model.embed-dim", "model.depth", "model.heads" })
                if (layers.Any(l => l.Config.HasPath(key)))
                    throw new ConfigException(key, $"is fixed by model.size = {size}; set model.size = custom to choose it");

        var architecture = reader.String("model.architecture");
        if (architecture is not ("ast" or "htsat"))
            throw new ConfigException("model.architecture", $"must be ast or htsat, got '{architecture}'");
        if (architecture == "htsat")
            foreach (var key in new[] { "model.size", "model.embed-dim", "model.depth", "model.heads", "model.patch-size", "model.patch-time", "model.fstride", "model.tstride", "model.pooling" })
                if (layers.Any(l => l.Config.HasPath(key)))
                    throw new ConfigException(key, $"is an AST key; with model.architecture = htsat the sizes are model.htsat's ({key.Replace("model.", "model.htsat.")} where there is one)");

        string BaseDirectory(string key) => layers.LastOrDefault(l => l.Config.HasPath(key)).BaseDir ?? Environment.CurrentDirectory;
        string? PathValue(string key)
        {
            var value = reader.String(key);
            return string.IsNullOrWhiteSpace(value) ? null : Path.GetFullPath(value, BaseDirectory(key));
        }

        // local shard paths resolve against the file that set them, as every path; URLs stay as given
        IReadOnlyList<string> ShardList(string key) => reader.List(key)
            .Select(u => ShardUrls.IsRemote(u) ? u : Path.GetFullPath(u, BaseDirectory(key))).ToArray();

        var training = new TrainingConfig(
            BatchSize: reader.Int("training.batch-size"),
            Seed: reader.Int("training.seed"),
            Loss: ConfigWord.Parse<LossKind>("training.loss", reader.String("training.loss")),
            Metric: reader.String("training.metric"),
            LrDecayStart: reader.Int("training.lr-decay.start"),
            LrDecayStep: reader.Int("training.lr-decay.step"),
            LrDecayGamma: reader.Double("training.lr-decay.gamma"),
            NumWorkers: reader.Int("training.num-workers"),
            CheckpointEverySteps: reader.Int("training.checkpoint-every-steps"),
            Optimizer: ConfigWord.Parse<AdamVariant>("training.optimizer", reader.String("training.optimizer")),
            MaxRestarts: reader.Int("training.max-restarts"),
            RestartBackoffSeconds: reader.Double("training.restart-backoff-seconds"),
            StallTimeoutSeconds: reader.Double("training.stall-timeout-seconds"),
            JournalOutageTimeoutSeconds: reader.Double("journal.outage-timeout-seconds"),
            Devices: reader.StringList("training.devices", allowed: "auto"),
            ClipGradNorm: reader.Double("training.clip-grad-norm"),
            ContinuousLr: reader.String("training.lr-schedule") switch
            {
                "per-phase" => null,
                "continuous" => new ContinuousLrConfig(reader.Double("training.cool-down")),
                var other => throw new ConfigException("training.lr-schedule", $"must be per-phase or continuous, got '{other}'"),
            },
            Adaptive: reader.String("training.phase-scheduler") switch
            {
                "fixed" => null,
                "adaptive" => new AdaptiveScheduleConfig(
                    Signal: ConfigWord.Parse<AdaptiveSignal>("training.adaptive.signal", reader.String("training.adaptive.signal")),
                    Budget: ConfigWord.Parse<AdaptiveBudget>("training.adaptive.budget", reader.String("training.adaptive.budget")),
                    MinEpochs: reader.Int("training.adaptive.min-epochs"),
                    Patience: reader.Int("training.adaptive.patience"),
                    Window: reader.Int("training.adaptive.window"),
                    ExpectedGain: reader.Double("training.adaptive.expected-gain"),
                    StartedGate: reader.Bool("training.adaptive.started-gate"),
                    Rule: ConfigWord.Parse<AdaptiveRule>("training.adaptive.rule", reader.String("training.adaptive.rule")),
                    ProbeBudget: reader.Double("training.adaptive.probe-budget") is var budget && budget > 0 && budget <= 0.02 ? budget
                        : throw new ConfigException("training.adaptive.probe-budget", $"must be in (0, 0.02] (a burst of at most 2 % of the run's FLOPs), got {budget}")),
                var other => throw new ConfigException("training.phase-scheduler", $"must be fixed or adaptive, got '{other}'"),
            },
            Averaging: (reader.Int("training.weight-averaging.start"), reader.Int("training.weight-averaging.end")) switch
            {
                (0, 0) => null,
                var (start, end) => new WeightAveragingConfig(start, end),
            },
            Pretraining: reader.String("training.objective") switch
            {
                "supervised" => null,
                "ssast-pretrain" => new SsastPretext(reader.Double("training.ssast.mask-ratio")),
                var other => throw new ConfigException("training.objective", $"must be supervised or ssast-pretrain, got '{other}'"),
            });
        var phaseDefaults = (Lr: reader.Double("training.lr"), Warmup: reader.Int("training.warmup-steps"));
        if (training.Pretraining is not null && layers.Any(l => l.Config.HasPath("model.pooling")))
            throw new ConfigException("model.pooling", "is the classifier's; SSAST pretraining (training.objective = ssast-pretrain) has no classifier. Set it for the fine-tuning run");

        var config = new ExperimentConfig(
            new DataConfig(
                Source: ConfigWord.Parse<DataSource>("data.source", reader.String("data.source")),
                TrainDatafile: PathValue("data.train"),
                EvalDatafile: PathValue("data.eval"),
                LabelCsv: PathValue("data.labels"),
                FolderRoot: PathValue("data.folder"),
                EvalFraction: reader.Double("data.eval-fraction"),
                Synthetic: new SyntheticConfig(
                    reader.Int("data.synthetic.train-clips-per-class"),
                    reader.Int("data.synthetic.eval-clips-per-class"),
                    reader.Int("data.synthetic.seed"),
                    reader.Double("data.synthetic.min-seconds"),
                    reader.Double("data.synthetic.max-seconds")),
                new FeatureCacheConfig(
                    Enabled: reader.Bool("data.cache.enabled"),
                    Directory: PathValue("data.cache.dir"),
                    Precision: ConfigWord.Parse<FeaturePrecision>("data.cache.precision", reader.String("data.cache.precision")),
                    MaxGigabytes: reader.Double("data.cache.max-gb")),
                Balanced(reader.String("data.sampler"), PathValue("data.sample-weights")),
                reader.String("data.source") != "shards" ? null : new ShardsConfig(
                    TrainShards: ShardList("data.train-shards"),
                    EvalShards: ShardList("data.eval-shards"),
                    Partitions: reader.Int("data.partitions"),
                    WindowShards: reader.Int("data.shuffle-window-shards"),
                    CacheDirectory: PathValue("data.shard-cache.dir"),
                    CacheMaxGigabytes: reader.Double("data.shard-cache.max-gb"),
                    SourceTimeoutSeconds: reader.Double("data.shard-cache.source-timeout-seconds"))),
            new ModelConfig(
                Size: size,
                EmbedDim: preset?.EmbedDim ?? reader.Int("model.embed-dim"),
                Depth: preset?.Depth ?? reader.Int("model.depth"),
                Heads: preset?.Heads ?? reader.Int("model.heads"),
                PatchSize: reader.Int("model.patch-size"),
                PatchTime: reader.Int("model.patch-time"),
                Pooling: ConfigWord.Parse<AstPooling>("model.pooling", reader.String("model.pooling")),
                FStride: reader.Int("model.fstride"),
                TStride: reader.Int("model.tstride"),
                MelBins: reader.Int("model.mel-bins"),
                TargetLength: reader.Int("model.target-length"),
                Init: ModelInit.Parse(reader.String("model.init"), BaseDirectory("model.init")),
                Htsat: architecture != "htsat" ? null : new HtsatModelConfig(
                    EmbedDim: reader.Int("model.htsat.embed-dim"),
                    Depths: reader.IntList("model.htsat.depths"),
                    Heads: reader.IntList("model.htsat.heads"),
                    Window: reader.Int("model.htsat.window"),
                    FreqRatio: reader.Int("model.htsat.freq-ratio"),
                    PatchSize: reader.Int("model.htsat.patch-size"))),
            new FrontEndConfig(
                FrameShiftMs: reader.Double("front-end.frame-shift-ms"),
                Mean: reader.Double("front-end.mean"),
                Std: reader.Double("front-end.std"),
                FreqM: reader.Int("front-end.freqm"),
                TimeM: reader.Int("front-end.timem"),
                Mixup: reader.Double("front-end.mixup"),
                Progressive: reader.String("front-end.regularisation") switch
                {
                    "constant" => null,
                    "progressive" => true,
                    var other => throw new ConfigException("front-end.regularisation", $"must be constant or progressive, got '{other}'"),
                }),
            training,
            Phases("curriculum", reader.Array("curriculum"), phaseDefaults),
            reader.Array("compare").Select((run, i) => Phases($"compare[{i}]", Reader.ArrayOf($"compare[{i}]", run), phaseDefaults)).ToArray());
        return config.Validate();
    }

    static BalancedSampling? Balanced(string sampler, string? weightsFile)
    {
        if (sampler is not ("shuffle" or "balanced")) throw new ConfigException("data.sampler", $"must be shuffle or balanced, got '{sampler}'");
        if (sampler == "shuffle")
            return weightsFile is null ? null : throw new ConfigException("data.sample-weights", "is read only with data.sampler = balanced");
        if (weightsFile is null) return new BalancedSampling(null, null);
        return BalancedSampling.Of(weightsFile);
    }

    /// <summary>Turns `--set key=value` arguments into the overrides dictionary (later duplicates win).</summary>
    public static IReadOnlyDictionary<string, string> ParseOverrides(IEnumerable<string> assignments)
    {
        var result = new Dictionary<string, string>();
        foreach (var a in assignments)
        {
            var eq = a.IndexOf('=');
            if (eq <= 0) throw new ConfigException(a, "an override must look like key=value (e.g. training.batch-size=8)");
            var key = a[..eq].Trim();
            result.Remove(key);
            result[key] = a[(eq + 1)..].Trim();
        }
        return result;
    }

    static IReadOnlyList<PhaseConfig> Phases(string key, IReadOnlyList<HoconValue> items, (double Lr, int Warmup) defaults) =>
        items.Select((item, i) =>
        {
            var at = $"{key}[{i}]";
            if (!item.IsObject()) throw new ConfigException(at, $"must be a phase object {{ method, factor, pooling, epochs, lr, warmup-steps }}, got '{Describe(item)}'");
            var fields = item.GetObject().Items;
            foreach (var name in fields.Keys)
                if (!PhaseKeys.Contains(name)) throw new ConfigException($"{at}.{name}", $"unknown phase key (known: {string.Join(", ", PhaseKeys)})");
            HoconValue? Field(string name) => fields.TryGetValue(name, out var v) ? v : null;
            HoconValue Required(string name) => Field(name) ?? throw new ConfigException($"{at}.{name}", "is required");
            var method = Field("method") is { } m ? Reader.Scalar($"{at}.method", m) : "pool";
            var pooling = Field("pooling") is { } p ? Reader.Scalar($"{at}.pooling", p) : "max";
            return new PhaseConfig(
                Method: method,
                Factor: Reader.ParseInt($"{at}.factor", Required("factor")),
                Pooling: pooling,
                Epochs: Reader.ParseInt($"{at}.epochs", Required("epochs")),
                Lr: Field("lr") is { } lr ? Reader.ParseDouble($"{at}.lr", lr) : defaults.Lr,
                WarmupSteps: Field("warmup-steps") is { } w ? Reader.ParseInt($"{at}.warmup-steps", w) : defaults.Warmup);
        }).ToArray();

    // Every key of `given` must exist in `known`, at the same nesting.
    static void CheckKnown(HoconObject given, HoconObject known, string prefix)
    {
        foreach (var (name, value) in given.Items)
        {
            var path = prefix + name;
            if (prefix == "" && name == "akka") continue;
            if (!known.Items.TryGetValue(name, out var expected))
                throw new ConfigException(path, $"unknown key{Suggestion(path, known, prefix)}");
            if (expected.IsObject())
            {
                if (!value.IsObject()) throw new ConfigException(path, $"is a section ({{ ... }}), got '{Describe(value)}'");
                CheckKnown(value.GetObject(), expected.GetObject(), path + ".");
            }
            else if (value.IsObject())
                throw new ConfigException(path, "is a value, not a section");
        }
    }

    static string Suggestion(string path, HoconObject known, string prefix)
    {
        var name = path[prefix.Length..];
        var best = known.Items.Keys.MinBy(k => Levenshtein(k, name));
        return best is not null && Levenshtein(best, name) <= Math.Max(2, name.Length / 3) ? $" (did you mean {prefix}{best}?)" : "";
    }

    static int Levenshtein(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    static Config Parse(string text, string source)
    {
        try { return ConfigurationFactory.ParseString(text); }
        catch (Exception e) when (e is not ConfigException)
        {
            throw new ConfigException(source, $"not valid HOCON: {HoconError(e.Message)}");
        }
    }

    // The HOCON parser's message without the rest of the text it appends ("Unknown token at position 27: <text>").
    static string HoconError(string message)
    {
        var line = message.Split('\n')[0].Trim();
        var at = System.Text.RegularExpressions.Regex.Match(line, @"^(.*?position \d+)");
        return at.Success ? at.Groups[1].Value : line.Length > 120 ? line[..120] + "…" : line;
    }

    // A CLI value as HOCON: lists, objects, quoted strings, numbers and booleans as written; anything else quoted
    // (so paths with `//` or `:` stay strings).
    static string HoconLiteral(string value)
    {
        var v = value.Trim();
        if (v.Length > 0 && (v[0] is '[' or '{' or '"')) return v;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || v is "true" or "false") return v;
        return JsonSerializer.Serialize(v);
    }

    static string Describe(HoconValue v) => v.IsObject() ? "{ ... }" : v.IsArray() ? "[ ... ]" : v.GetString() ?? "";

    static string ReadDefault()
    {
        using var stream = typeof(ExperimentConfigLoader).Assembly.GetManifestResourceStream(DefaultResource)
            ?? throw new InvalidOperationException($"embedded resource {DefaultResource} missing from the build");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>Typed reads from the merged config that name the key on a bad value.</summary>
    sealed class Reader(Config config)
    {
        HoconValue Value(string key) =>
            config.GetValue(key) ?? throw new ConfigException(key, "is missing");

        public string String(string key) => Scalar(key, Value(key));
        public int Int(string key) => ParseInt(key, Value(key));
        public double Double(string key) => ParseDouble(key, Value(key));
        public bool Bool(string key) => Scalar(key, Value(key)) switch
        {
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            var s => throw new ConfigException(key, $"must be true or false, got '{s}'"),
        };

        public IReadOnlyList<HoconValue> Array(string key) => ArrayOf(key, Value(key));

        public IReadOnlyList<int> IntList(string key) => ArrayOf(key, Value(key)).Select((item, i) => ParseInt($"{key}[{i}]", item)).ToArray();

        /// <summary>A list of strings, or the single word <paramref name="allowed"/> standing for itself (`devices = auto`).</summary>
        public IReadOnlyList<string> List(string key) => ArrayOf(key, Value(key)).Select((item, i) => Scalar($"{key}[{i}]", item)).ToArray();

        public IReadOnlyList<string> StringList(string key, string allowed)
        {
            var v = Value(key);
            if (!v.IsArray() && !v.IsObject() && v.GetString() == allowed) return [allowed];
            return ArrayOf(key, v).Select((item, i) => Scalar($"{key}[{i}]", item)).ToArray();
        }

        public static IReadOnlyList<HoconValue> ArrayOf(string key, HoconValue v)
        {
            if (v.Values.Count == 1 && v.Values[0] is HoconArray { Count: 0 }) return [];   // `[]`: IsArray() says false
            if (!v.IsArray()) throw new ConfigException(key, $"must be a list [ ... ], got '{Describe(v)}'");
            return v.GetArray().ToList();
        }

        public static string Scalar(string key, HoconValue v)
        {
            if (v.IsObject() || v.IsArray()) throw new ConfigException(key, $"must be a single value, got '{Describe(v)}'");
            return v.GetString() ?? "";
        }

        public static int ParseInt(string key, HoconValue v)
        {
            var s = Scalar(key, v);
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                : throw new ConfigException(key, $"must be an integer, got '{s}'");
        }

        public static double ParseDouble(string key, HoconValue v)
        {
            var s = Scalar(key, v);
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d
                : throw new ConfigException(key, $"must be a number, got '{s}'");
        }
    }
}
