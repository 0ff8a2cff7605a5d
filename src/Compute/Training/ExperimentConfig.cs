using System.Text.Json;
using System.Text.Json.Serialization;
using ActorTraining.Compute.Compression;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Model;

namespace ActorTraining.Compute.Training;

// Over 350 lines: the typed configuration records and the validation across them, kept together so a key added is
// validated in one place (the run identity is ConfigIdentity).
/// <summary>Where the clips come from. <c>Source</c>: <c>synthetic</c> (generated into the run directory),
/// <c>datafile</c> (AST datafile JSON for train and eval plus class_labels_indices.csv) or <c>folder</c>
/// (a folder per class; <c>EvalFraction</c> of each class held out for evaluation).</summary>
public sealed record DataConfig(
    DataSource Source,
    string? TrainDatafile,
    string? EvalDatafile,
    string? LabelCsv,
    string? FolderRoot,
    double EvalFraction,
    SyntheticConfig Synthetic,
    // omitted when null, as every field added after ConfigIdentity.V1's first runs (see there)
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FeatureCacheConfig? Cache = null,
    // data.sampler = balanced; null = the plain shuffle
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BalancedSampling? Balanced = null,
    // data.source = shards; null otherwise
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ShardsConfig? Shards = null)
{
    /// <summary>The cache as configured (the default when unset: on, in the run directory, float16, 50 GB).</summary>
    [JsonIgnore] public FeatureCacheConfig ResolvedCache => Cache ?? FeatureCacheConfig.Default;
}

/// <summary>
/// The feature cache (<c>data.cache</c>): fbanks computed once per clip and front end and read back in later epochs,
/// phases and evaluations. <c>Directory</c> null = <c>&lt;run-dir&gt;/feature-cache</c>. <c>Precision</c> float32 (the
/// values bit for bit) or float16 (half the disk; every fbank of the run is then rounded, cached or not, so it is part of
/// the run's identity). <c>MaxGigabytes</c>: past it, clips not cached are computed each time they are read.
/// </summary>
public sealed record FeatureCacheConfig(bool Enabled, string? Directory,
    FeaturePrecision Precision, double MaxGigabytes)
{
    public static readonly FeatureCacheConfig Default = new(true, null, FeaturePrecision.Float16, 50);
}

/// <summary>
/// The AST reference's balanced sampler (<c>data.sampler = balanced</c>): each epoch draws as many clips as the training
/// set holds, with replacement, each in proportion to its weight — from the labels' frequencies as the reference's
/// gen_weight_file.py, or read from <c>data.sample-weights</c> (<paramref name="WeightsFile"/>, the reference's
/// <c>*_weight.csv</c>, whose content hash <paramref name="WeightsSha256"/> is part of the run's identity).
/// </summary>
public sealed record BalancedSampling(string? WeightsFile, string? WeightsSha256)
{
    /// <summary>Balanced by the weights in <paramref name="weightsFile"/>, identified by their content.</summary>
    public static BalancedSampling Of(string weightsFile) => File.Exists(weightsFile)
        ? new(weightsFile, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(weightsFile))))
        : throw new ConfigException("data.sample-weights", $"{weightsFile}: no such file");
}

/// <summary>Parameters of <see cref="SyntheticCorpus.Generate"/> when <c>data.source = synthetic</c>.</summary>
public sealed record SyntheticConfig(int TrainClipsPerClass, int EvalClipsPerClass, int Seed, double MinSeconds, double MaxSeconds);

/// <summary>The fine (C = 1) model. <c>Size</c> tiny/small/base fixes EmbedDim/Depth/Heads to the AST presets;
/// <c>custom</c> takes them as given. Patches are PatchSize×PatchSize; strides as in the AST reference. <c>Init</c>: the
/// pretrained weights the first phase starts from (null: drawn from the seed).</summary>
public sealed record ModelConfig(
    string Size,
    int EmbedDim,
    int Depth,
    int Heads,
    int PatchSize,
    int FStride,
    int TStride,
    int MelBins,
    int TargetLength,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Model.ModelInit? Init = null,
    // model.architecture = htsat; null = AST
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] HtsatModelConfig? Htsat = null,
    // model.patch-time: the patch's time side when it differs from model.patch-size (SSAST's frame patches, 128 × 2);
    // 0 = square
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int PatchTime = 0,
    // model.pooling: what an AST's head reads
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] Model.AstPooling Pooling = Model.AstPooling.Cls)
{
    /// <summary>The patch's time side: <c>model.patch-time</c>, or the square patch's.</summary>
    [JsonIgnore] public int ResolvedPatchTime => PatchTime > 0 ? PatchTime : PatchSize;

    /// <summary>The AST reference presets (timm DeiT distilled): dim/depth/heads.</summary>
    public static (int EmbedDim, int Depth, int Heads)? Preset(string size) => size switch
    {
        "tiny" => (192, 12, 3),
        "small" => (384, 12, 6),
        "base" => (768, 12, 12),
        _ => null,
    };
}

/// <summary>
/// HTS-AT's sizes (<c>model.architecture = htsat</c>, keys under <c>model.htsat</c>): the first stage's width, blocks
/// and heads per stage, the attention window, the fold (time chunks stacked along frequency) and the square patch.
/// The input is model.mel-bins × model.target-length as for AST. The reference: 96, [2, 2, 6, 2], [4, 8, 16, 32], 8, 4, 4
/// on 64 mel × 1024 frames.
/// </summary>
public sealed record HtsatModelConfig(int EmbedDim, IReadOnlyList<int> Depths, IReadOnlyList<int> Heads, int Window, int FreqRatio, int PatchSize)
{
    /// <summary>The model's geometry for <paramref name="classes"/> classes on <paramref name="melBins"/> × <paramref name="frames"/>.</summary>
    public HtsatConfig Geometry(int classes, int melBins, int frames) =>
        new(classes, melBins, frames, EmbedDim, Depths, Heads, Window, FreqRatio, PatchSize, PatchSize);
}

/// <summary>Spectrogram front end: base frame shift (Frame-Shift compression multiplies it by C), the dataset's
/// normalisation statistics, SpecAugment mask widths (at C = 1) and the mixup probability. <c>Progressive</c> (true; null
/// when off, as in every configuration before it): a phase of compression factor C regularises with 1/C of those widths
/// and of that probability, rising to all of them at full resolution (EfficientNetV2's progressive learning).</summary>
public sealed record FrontEndConfig(double FrameShiftMs, double Mean, double Std, int FreqM, int TimeM, double Mixup,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Progressive = null)
{
    /// <summary>The share of the configured regularisation a phase of <paramref name="compression"/> applies.</summary>
    public double RegularisationScale(Compression.Compression compression) => Progressive == true ? 1.0 / compression.Factor : 1.0;
}

/// <summary>Optimisation settings shared by every phase. Lr decay is the AST reference MultiStepLR:
/// milestones range(LrDecayStart, 1000, LrDecayStep), factor LrDecayGamma, stepped once per epoch.
/// <c>Loss</c>: bce (multi-label) or ce (single-label). <c>Metric</c>: map or accuracy (auto: map for bce,
/// accuracy for ce). <c>NumWorkers</c> 0 = from the core count. <c>CheckpointEverySteps</c> 0 = only at epoch ends.
/// <c>Optimizer</c>: adam (torch.optim.Adam, the reference) or adamw. Recovery: a fault restarts training from the last
/// committed checkpoint inside the process up to <c>MaxRestarts</c> times in a row (an evaluated epoch resets the
/// count), waiting <c>RestartBackoffSeconds</c> × 2^(k−1) before restart k; no training step and no evaluation batch
/// for <c>StallTimeoutSeconds</c> counts as a fault.</summary>
public sealed record TrainingConfig(
    int BatchSize,
    int Seed,
    LossKind Loss,
    string Metric,
    int LrDecayStart,
    int LrDecayStep,
    double LrDecayGamma,
    int NumWorkers,
    int CheckpointEverySteps,
    AdamVariant Optimizer = AdamVariant.Adam,
    int MaxRestarts = 3,
    double RestartBackoffSeconds = 2,
    double StallTimeoutSeconds = 300,
    // journal.outage-timeout-seconds (a recovery key like the three above)
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double JournalOutageTimeoutSeconds = 300,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Devices = null,
    // training.phase-scheduler = adaptive; null = fixed
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AdaptiveScheduleConfig? Adaptive = null,
    // training.weight-averaging; null = off
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WeightAveragingConfig? Averaging = null,
    // training.objective = ssast-pretrain with its masking (training.ssast); null = supervised (omitted then, likewise)
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Model.SsastPretext? Pretraining = null,
    // training.clip-grad-norm: the all-reduced gradients' largest L2 norm; 0 = off (omitted then, likewise)
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double ClipGradNorm = 0,
    // training.lr-schedule = continuous with its cool-down; null = per-phase (omitted then, likewise)
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ContinuousLrConfig? ContinuousLr = null)
{
    /// <summary>The node's device list as configured (["cpu"] when unset); <see cref="Runtime.RankDevice.Resolve"/> checks it against what is there.</summary>
    [JsonIgnore] public IReadOnlyList<string> DeviceNames => Devices is { Count: > 0 } d ? d : ["cpu"];

    [JsonIgnore] public AdamSettings AdamSettings => new(Variant: Optimizer);

    [JsonIgnore] public LossKind LossKind => Loss;

    /// <summary>The metric reported and plotted: "map" or "accuracy" (resolves "auto"); SSAST pretraining's pretext accuracy.</summary>
    [JsonIgnore] public string ResolvedMetric => Pretraining is not null ? Model.SsastPretext.ScoreNames[0]
        : Metric != "auto" ? Metric : Loss == LossKind.CrossEntropy ? "accuracy" : "map";

    /// <summary>Decoder/spectrogram workers: the configured count, or one per core minus the trainer's.</summary>
    [JsonIgnore] public int ResolvedNumWorkers => NumWorkers > 0 ? NumWorkers : Math.Max(1, Environment.ProcessorCount - 1);
}

/// <summary>
/// Weight averaging (<c>training.weight-averaging</c>, the AST reference's <c>wa_start</c>/<c>wa_end</c>): the weights of
/// the last phase's epochs <c>Start</c>…<c>End</c> (1-based, both included; negative counts from the phase's end, −1 its
/// last epoch) averaged into the run's final checkpoint.
/// </summary>
public sealed record WeightAveragingConfig(int Start, int End)
{
    /// <summary>The range in a phase of <paramref name="epochs"/> epochs, 1-based.</summary>
    public (int First, int Last) In(int epochs) => (Start < 0 ? epochs + 1 + Start : Start, End < 0 ? epochs + 1 + End : End);
}

/// <summary>
/// One learning-rate schedule over the whole run (<c>training.lr-schedule = continuous</c>) instead of one per phase:
/// the first phase's warm-up, then each phase's lr, constant (no per-epoch decay), then a linear cool-down to 0 over
/// the last <c>CoolDown</c> of the run's training FLOPs — taken in the last phase, whose length is settled when it
/// starts, so the schedule needs no phase length in advance (a cool-down longer than the last phase spans all of it).
/// </summary>
public sealed record ContinuousLrConfig(double CoolDown);

/// <summary>
/// The adaptive phase scheduler (<c>training.phase-scheduler = adaptive</c>, keys under <c>training.adaptive</c>): each
/// phase but the last ends when <see cref="PhaseLengthRule"/> says so, between <c>MinEpochs</c> and its curriculum
/// epochs; what it leaves goes to the next phase as epochs or, with <c>Budget</c> = flops, as the FLOPs they would have
/// cost. <c>Signal</c>: the run's metric (<c>metric</c>) or the evaluation loss (<c>eval-loss</c>). <c>StartedGate</c>:
/// no phase ends for lack of progress before it has started learning (<see cref="Training.StartedGate"/>). <c>Rule</c>:
/// <c>slope</c> probes the next resolution (a burst of <c>ProbeBudget</c> of the run's training FLOPs budget) and ends a
/// started phase once it gains less per FLOP than the probe did (<see cref="SlopeRule"/>). The gate, the rule and the
/// probe budget are not part of the run's identity: a resumed run follows the schedule its journal recorded at its start.
/// </summary>
public sealed record AdaptiveScheduleConfig(AdaptiveSignal Signal, AdaptiveBudget Budget, int MinEpochs, int Patience, int Window, double ExpectedGain,
    bool StartedGate = true, AdaptiveRule Rule = AdaptiveRule.Gain, double ProbeBudget = 0.005)
{
    // eval-loss and patience 3: on the real-recordings benchmark, accuracy on 480 clips dipped 2–4 points between epochs
    // and patience 2 on it ended phases on such dips (−4.5 points against the baseline); the loss fell steadily
    // (−1.3, as the fixed schedule). BENCHMARKS.md, (a) on real recordings.
    public static readonly AdaptiveScheduleConfig Default = new(AdaptiveSignal.EvalLoss, AdaptiveBudget.Flops, 2, 3, 3, 0.5);
}

/// <summary>One curriculum phase: compression <c>Method</c> (fshift|pool|patch) with factor C, <c>Pooling</c>
/// (max|avg, pool only), epochs, peak learning rate and warmup steps (0 = no warmup). Factor 1 = full resolution.</summary>
public sealed record PhaseConfig(string Method, int Factor, string Pooling, int Epochs, double Lr, int WarmupSteps)
{
    /// <summary>The phase's compression, typed.</summary>
    [JsonIgnore] public Compression.Compression Compression => ActorTraining.Compute.Compression.Compression.Parse(Method, Factor, Pooling);

    public override string ToString() => Factor == 1 ? $"C=1 ({Epochs} ep)" : $"{Compression} ({Epochs} ep)";
}

/// <summary>A whole experiment. <c>Curriculum</c> is the run itself (one phase with factor 1 = the baseline);
/// each entry of <c>Compare</c> is another curriculum run on the same data/model/seed for comparison
/// (the built-in default compares pool 4 → 2 → 1 against the single-phase baseline).</summary>
public sealed record ExperimentConfig(
    DataConfig Data,
    ModelConfig Model,
    FrontEndConfig FrontEnd,
    TrainingConfig Training,
    IReadOnlyList<PhaseConfig> Curriculum,
    IReadOnlyList<IReadOnlyList<PhaseConfig>>? Compare = null)
{
    /// <summary>The built-in experiment `actortraining train` runs with no arguments; identical to configs/default.hocon.
    /// Sized from measured step costs (see configs/default.hocon) to train both runs (curriculum + baseline)
    /// well inside 5 minutes on 2 CPU cores.</summary>
    public static ExperimentConfig Default() => new(
        new DataConfig(DataSource.Synthetic, null, null, null, null, 0.2,
            new SyntheticConfig(TrainClipsPerClass: 100, EvalClipsPerClass: 20, Seed: 7, MinSeconds: 1.5, MaxSeconds: 2.5), FeatureCacheConfig.Default),
        new ModelConfig("custom", EmbedDim: 96, Depth: 2, Heads: 4, PatchSize: 16, FStride: 16, TStride: 16, MelBins: 64, TargetLength: 256),
        new FrontEndConfig(FrameShiftMs: 10, Mean: SyntheticMean, Std: SyntheticStd, FreqM: 0, TimeM: 0, Mixup: 0),
        new TrainingConfig(BatchSize: 16, Seed: 1, Loss: LossKind.CrossEntropy, Metric: "auto", LrDecayStart: 5, LrDecayStep: 1, LrDecayGamma: 0.85,
            NumWorkers: 0, CheckpointEverySteps: 0, Devices: []),
        [new PhaseConfig("pool", 4, "max", 8, 5e-4, 20), new PhaseConfig("pool", 2, "max", 6, 5e-4, 20), new PhaseConfig("pool", 1, "max", 6, 5e-4, 20)],
        [[new PhaseConfig("pool", 1, "max", 20, 5e-4, 20)]]);

    /// <summary>Fbank statistics of the default synthetic corpus (seed 7, 100 clips per class), measured with
    /// torchaudio.compliance.kaldi.fbank (64 mel bins, 10 ms) over clips zero-padded to 256 frames, as AST's
    /// get_norm_stats does.</summary>
    public const double SyntheticMean = -1.2074, SyntheticStd = 3.0362;

    // AST reference AudioSet statistics (also AstPreprocessing.AudioSetMean/Std); kept here so Compute/Training
    // does not depend on the audio front end.
    public const double AudioSetMean = -4.2677393, AudioSetStd = 4.5689974;

    /// <summary>Name of a curriculum for logs, tables and plot legends: "baseline" for one full-resolution phase,
    /// else e.g. "pool-max 4→2→1" (methods joined with "+" when phases mix them).</summary>
    public static string Label(IReadOnlyList<PhaseConfig> phases)
    {
        if (phases.Count == 1 && phases[0].Factor == 1) return "baseline";
        var methods = phases.Where(p => p.Factor > 1).Select(p => p.Compression.Name).Distinct();
        return $"{string.Join("+", methods)} {string.Join("→", phases.Select(p => p.Factor))}";
    }

    /// <summary>
    /// The name of run <paramref name="runIndex"/> (0 = the curriculum, k = compare[k−1]) in logs, tables and plots: its
    /// curriculum's <see cref="Label"/>, with " adaptive" when the scheduler decides its phase lengths — so a run
    /// directory of each kind shows apart from the other in one comparison.
    /// </summary>
    public string RunLabel(int runIndex)
    {
        var phases = Runs()[runIndex];
        // the architecture only when it is not the default: every AST run keeps the label it always had
        return (Model.Htsat is not null ? "HTS-AT " : Training.Pretraining is not null ? "SSAST " : "") + Label(phases) + (Training.Adaptive is not null && phases.Count > 1 ? " adaptive" : "");
    }

    /// <summary>Every run this experiment asks for: the curriculum first, then each comparison curriculum.</summary>
    public IReadOnlyList<IReadOnlyList<PhaseConfig>> Runs() => [Curriculum, .. Compare ?? []];

    /// <summary>Checks every value; throws <see cref="ConfigException"/> naming the HOCON key of the first bad one.</summary>
    public ExperimentConfig Validate()
    {
        switch (Data.Source)
        {
            case DataSource.Synthetic:
                InRange("data.synthetic.train-clips-per-class", Data.Synthetic.TrainClipsPerClass, 1, 100_000);
                InRange("data.synthetic.eval-clips-per-class", Data.Synthetic.EvalClipsPerClass, 1, 100_000);
                if (!(Data.Synthetic.MinSeconds > 0)) throw new ConfigException("data.synthetic.min-seconds", $"must be > 0, got {Data.Synthetic.MinSeconds}");
                if (!(Data.Synthetic.MaxSeconds <= 600)) throw new ConfigException("data.synthetic.max-seconds", $"must be at most 600 (a synthetic clip of ten minutes), got {Data.Synthetic.MaxSeconds}");
                if (!(Data.Synthetic.MaxSeconds >= Data.Synthetic.MinSeconds))
                    throw new ConfigException("data.synthetic.max-seconds", $"must be >= data.synthetic.min-seconds ({Data.Synthetic.MinSeconds}), got {Data.Synthetic.MaxSeconds}");
                break;
            case DataSource.Datafile:
                Required("data.train", Data.TrainDatafile);
                Required("data.eval", Data.EvalDatafile);
                Required("data.labels", Data.LabelCsv);
                break;
            case DataSource.Shards:
                if (Data.Shards is not { } shards || shards.TrainShards.Count == 0) throw new ConfigException("data.train-shards", "is required with data.source = shards (a list of shard URLs)");
                if (shards.EvalShards.Count == 0) throw new ConfigException("data.eval-shards", "is required with data.source = shards (a list of shard URLs)");
                Required("data.labels", Data.LabelCsv);
                InRange("data.partitions", shards.Partitions, 1, 1024);
                InRange("data.shuffle-window-shards", shards.WindowShards, 1, 64);
                if (!(shards.CacheMaxGigabytes > 0)) throw new ConfigException("data.shard-cache.max-gb", $"must be > 0, got {shards.CacheMaxGigabytes}");
                if (!(shards.SourceTimeoutSeconds > 0)) throw new ConfigException("data.shard-cache.source-timeout-seconds", $"must be > 0, got {shards.SourceTimeoutSeconds}");
                if (Data.Balanced is not null) throw new ConfigException("data.sampler", "balanced is not available with data.source = shards yet (its weights need every clip's labels before the epoch); use shuffle");
                break;
            case DataSource.Folder:
                Required("data.folder", Data.FolderRoot);
                if (!(Data.EvalFraction > 0 && Data.EvalFraction < 1))
                    throw new ConfigException("data.eval-fraction", $"must be between 0 and 1 (exclusive), got {Data.EvalFraction}");
                break;
        }

        if (!(Data.ResolvedCache.MaxGigabytes > 0 && Data.ResolvedCache.MaxGigabytes <= 1e6))
            throw new ConfigException("data.cache.max-gb", $"must be > 0 (gigabytes; data.cache.enabled = false turns the cache off), got {Data.ResolvedCache.MaxGigabytes}");

        if (Model.Htsat is null && Model.Init is { Kind: ActorTraining.Compute.Model.ModelInitKind.Htsat })
            throw new ConfigException("model.init", $"{Model.Init}: an HTS-AT's weights; set model.architecture = htsat to train from them");
        if (Model.Htsat is { } htsat)
        {
            if (Model.Init is { Kind: not ActorTraining.Compute.Model.ModelInitKind.Htsat })
                throw new ConfigException("model.init", $"{Model.Init}: an AST's weights; an HTS-AT starts from htsat:<file> (a reference HTS-AT checkpoint) or from training.seed (none)");
            InRange("model.htsat.embed-dim", htsat.EmbedDim, 1, 4096);
            InRange("model.htsat.window", htsat.Window, 1, 64);
            InRange("model.htsat.freq-ratio", htsat.FreqRatio, 1, 64);
            InRange("model.htsat.patch-size", htsat.PatchSize, 1, 64);
            InRange("model.htsat.depths", htsat.Depths.Count, 1, 8);
            for (int s = 0; s < htsat.Depths.Count; s++) InRange($"model.htsat.depths[{s}]", htsat.Depths[s], 1, 64);
            for (int s = 0; s < htsat.Heads.Count; s++) InRange($"model.htsat.heads[{s}]", htsat.Heads[s], 1, 256);
            try { htsat.Geometry(1, Model.MelBins, Model.TargetLength).Validate(); }
            catch (ArgumentException e) { throw new ConfigException(HtsatKey(e.ParamName), HtsatConfig.Sentence(e)); }
        }
        if (Model.Size != "custom" && ModelConfig.Preset(Model.Size) is null)
            throw new ConfigException("model.size", $"must be tiny, small, base or custom, got '{Model.Size}'");
        InRange("model.embed-dim", Model.EmbedDim, 1, 4096);
        InRange("model.depth", Model.Depth, 1, 64);
        InRange("model.heads", Model.Heads, 1, 256);
        if (Model.EmbedDim % Model.Heads != 0)
            throw new ConfigException("model.heads", $"must divide model.embed-dim ({Model.EmbedDim}), got {Model.Heads}");
        InRange("model.patch-size", Model.PatchSize, 1, 1024);
        InRange("model.patch-time", Model.PatchTime, 0, 1024);
        Positive("model.fstride", Model.FStride);
        Positive("model.tstride", Model.TStride);
        if (Model.FStride > Model.PatchSize) throw new ConfigException("model.fstride", $"must be <= model.patch-size ({Model.PatchSize}), got {Model.FStride}");
        if (Model.TStride > Model.ResolvedPatchTime) throw new ConfigException("model.tstride", $"must be <= the patch's time side ({Model.ResolvedPatchTime}), got {Model.TStride}");
        if (Model.MelBins > 1024) throw new ConfigException("model.mel-bins", $"must be at most 1024, got {Model.MelBins}");
        if (Model.TargetLength > 200_000) throw new ConfigException("model.target-length", $"must be at most 200000 frames (33 minutes at 10 ms), got {Model.TargetLength}");
        if (Model.MelBins < Model.PatchSize) throw new ConfigException("model.mel-bins", $"must be >= model.patch-size ({Model.PatchSize}), got {Model.MelBins}");
        if (Model.TargetLength < Model.ResolvedPatchTime) throw new ConfigException("model.target-length", $"must be >= the patch's time side ({Model.ResolvedPatchTime}), got {Model.TargetLength}");

        if (!(FrontEnd.FrameShiftMs > 0 && FrontEnd.FrameShiftMs <= 1000)) throw new ConfigException("front-end.frame-shift-ms", $"must be > 0 and at most 1000, got {FrontEnd.FrameShiftMs}");
        if (!(FrontEnd.Std > 0)) throw new ConfigException("front-end.std", $"must be > 0, got {FrontEnd.Std}");
        if (!double.IsFinite(FrontEnd.Mean)) throw new ConfigException("front-end.mean", $"must be a finite number, got {FrontEnd.Mean}");
        NonNegative("front-end.freqm", FrontEnd.FreqM);
        NonNegative("front-end.timem", FrontEnd.TimeM);
        if (FrontEnd.FreqM > Model.MelBins) throw new ConfigException("front-end.freqm", $"must be <= model.mel-bins ({Model.MelBins}), got {FrontEnd.FreqM}");
        if (FrontEnd.TimeM > Model.TargetLength) throw new ConfigException("front-end.timem", $"must be <= model.target-length ({Model.TargetLength}), got {FrontEnd.TimeM}");
        if (!(FrontEnd.Mixup >= 0 && FrontEnd.Mixup <= 1)) throw new ConfigException("front-end.mixup", $"must be a probability in [0, 1], got {FrontEnd.Mixup}");

        InRange("training.batch-size", Training.BatchSize, 1, 65_536);
        if (Training.Metric is not ("auto" or "map" or "accuracy")) throw new ConfigException("training.metric", $"must be auto, map or accuracy, got '{Training.Metric}'");
        Positive("training.lr-decay.start", Training.LrDecayStart);
        Positive("training.lr-decay.step", Training.LrDecayStep);
        if (!(Training.LrDecayGamma > 0 && Training.LrDecayGamma <= 1)) throw new ConfigException("training.lr-decay.gamma", $"must be in (0, 1], got {Training.LrDecayGamma}");
        InRange("training.num-workers", Training.NumWorkers, 0, 1024);
        NonNegative("training.checkpoint-every-steps", Training.CheckpointEverySteps);
        if (Training.ContinuousLr is { } continuous && !(continuous.CoolDown > 0 && continuous.CoolDown <= 1))
            throw new ConfigException("training.cool-down", $"must be > 0 and at most 1 (a fraction of the run's FLOPs), got {continuous.CoolDown}");
        InRange("training.max-restarts", Training.MaxRestarts, 0, 1000);
        if (!(Training.ClipGradNorm >= 0 && double.IsFinite(Training.ClipGradNorm)))
            throw new ConfigException("training.clip-grad-norm", $"must be a finite number at least 0 (0 = off), got {Training.ClipGradNorm}");
        if (Training.DeviceNames is not ["auto"])
            foreach (var device in Training.DeviceNames) Runtime.RankDevice.Parse(device); // the form; whether it is there, the node says
        if (Training.DeviceNames.Count > 256) throw new ConfigException("training.devices", $"lists {Training.DeviceNames.Count} devices; at most 256 ranks per node");
        if (!(Training.RestartBackoffSeconds >= 0 && Training.RestartBackoffSeconds <= 3600))
            throw new ConfigException("training.restart-backoff-seconds", $"must be between 0 and 3600, got {Training.RestartBackoffSeconds}");
        if (!(Training.StallTimeoutSeconds >= 1 && double.IsFinite(Training.StallTimeoutSeconds)))
            throw new ConfigException("training.stall-timeout-seconds", $"must be at least 1, got {Training.StallTimeoutSeconds}");
        if (!(Training.JournalOutageTimeoutSeconds >= 1 && Training.JournalOutageTimeoutSeconds <= 7 * 86400))
            throw new ConfigException("journal.outage-timeout-seconds", $"must be between 1 and 604800 (a week), got {Training.JournalOutageTimeoutSeconds}");

        if (Training.Pretraining is { } pretext)
        {
            const string Key = "training.objective";
            if (Model.Htsat is not null) throw new ConfigException(Key, "ssast-pretrain pretrains an AST; model.architecture is htsat");
            if (Model.Init is not null) throw new ConfigException("model.init", "SSAST pretraining starts from training.seed here (model.init = none); a supervised run starts from its checkpoint");
            if (Training.Metric != "auto") throw new ConfigException("training.metric", $"is reported as pretext_accuracy while pretraining; leave it auto, got '{Training.Metric}'");
            if (Model.FStride != Model.PatchSize || Model.TStride != Model.ResolvedPatchTime)
                throw new ConfigException(Model.FStride != Model.PatchSize ? "model.fstride" : "model.tstride",
                    $"SSAST pretrains on patches without overlap: strides {Model.FStride}/{Model.TStride} must equal the patch {Model.PatchSize}×{Model.ResolvedPatchTime}");
            if (Model.MelBins % Model.PatchSize != 0) throw new ConfigException("model.mel-bins", $"must be a whole number of patches ({Model.PatchSize}) for SSAST pretraining, got {Model.MelBins}");
            if (!(pretext.MaskRatio > 0 && pretext.MaskRatio < 1)) throw new ConfigException("training.ssast.mask-ratio", $"must be between 0 and 1 (exclusive; the reference masks 400 of 512 = 0.78125), got {pretext.MaskRatio}");
        }

        if (Training.Adaptive is { } adaptive)
        {
            // the decision about epoch k + 2 is made from epoch k's score, so a phase has at least two epochs
            InRange("training.adaptive.min-epochs", adaptive.MinEpochs, 2, 1_000_000);
            InRange("training.adaptive.patience", adaptive.Patience, 1, 1_000_000);
            InRange("training.adaptive.window", adaptive.Window, 1, 1_000_000);
            if (!(adaptive.ExpectedGain > 0 && adaptive.ExpectedGain <= 10))
                throw new ConfigException("training.adaptive.expected-gain", $"must be > 0 and at most 10, got {adaptive.ExpectedGain}");
        }

        ValidateCurriculum("curriculum", Curriculum);
        if (Compare is not null)
            for (int r = 0; r < Compare.Count; r++) ValidateCurriculum($"compare[{r}]", Compare[r]);
        if (Training.Averaging is { } wa)
        {
            const string Counting = "epochs count from 1 as the AST reference's wa_start, or back from the last phase's end as -1, -2, …";
            if (wa.Start == 0) throw new ConfigException("training.weight-averaging.start", $"must not be 0 ({Counting}); start = end = 0 turns averaging off");
            if (wa.End == 0) throw new ConfigException("training.weight-averaging.end", $"must not be 0 ({Counting}); start = end = 0 turns averaging off");
            // the last phase only grows under the adaptive scheduler, so a range valid for its planned epochs stays valid
            foreach (var (name, phases) in Runs().Select((r, i) => (i == 0 ? "curriculum" : $"compare[{i - 1}]", r)))
            {
                int epochs = phases[^1].Epochs;
                var (first, last) = wa.In(epochs);
                if (first < 1 || first > epochs)
                    throw new ConfigException("training.weight-averaging.start", $"is {wa.Start}, outside the {epochs} epochs of the last phase of {name}");
                if (last < 1 || last > epochs)
                    throw new ConfigException("training.weight-averaging.end", $"is {wa.End}, outside the {epochs} epochs of the last phase of {name}");
                if (last < first)
                    throw new ConfigException("training.weight-averaging.end", $"is {wa.End}, before training.weight-averaging.start ({wa.Start}) in the {epochs} epochs of the last phase of {name}");
            }
        }
        return this;
    }

    void ValidateCurriculum(string key, IReadOnlyList<PhaseConfig>? phases)
    {
        if (phases is null || phases.Count == 0) throw new ConfigException(key, "needs at least one phase");
        for (int i = 0; i < phases.Count; i++)
        {
            var p = phases[i];
            var at = $"{key}[{i}]";
            Positive($"{at}.factor", p.Factor);
            try { _ = p.Compression; } // the words are read in one place: Compression.Parse
            catch (ArgumentException e) when (e.ParamName is "method" or "pooling")
            {
                throw new ConfigException($"{at}.{e.ParamName}", e.ParamName == "method" ? $"must be fshift, pool or patch, got '{p.Method}'" : $"must be max or avg, got '{p.Pooling}'");
            }
            if (Model.Htsat is { } htsat)
            {
                // every phase's image must fold, patch and merge: fewer frames must still be whole windows at every stage
                try { p.Compression.ModelConfig(htsat.Geometry(1, Model.MelBins, Model.TargetLength)); }
                catch (ArgumentException e) { throw new ConfigException($"{at}.factor", $"{p.Factor} ({p.Method}) does not fit: {HtsatConfig.Sentence(e)}"); }
            }
            else if (Model.TargetLength / p.Factor < Model.ResolvedPatchTime)
                throw new ConfigException($"{at}.factor", $"{p.Factor} leaves {Model.TargetLength / p.Factor} frames, fewer than one patch ({Model.ResolvedPatchTime})");
            if (Training.Pretraining is { } pretext)
            {
                // SSAST's heads predict a patch's values: a patch phase would change what they predict
                if (p.Compression.Method == CompressionMethod.Patch && p.Factor > 1) throw new ConfigException($"{at}.method", "patch phases change the patch SSAST's heads reconstruct; use fshift or pool for pretraining");
                var frames = p.Compression.TargetLength(Model.TargetLength);
                if (frames % Model.ResolvedPatchTime != 0 || Model.MelBins / Model.PatchSize * (frames / Model.ResolvedPatchTime) < 3)
                    throw new ConfigException($"{at}.factor", $"{p.Factor} leaves {frames} frames; SSAST pretraining needs whole patches of {Model.ResolvedPatchTime} frames and at least 3 of them");
            }
            InRange($"{at}.epochs", p.Epochs, 1, 1_000_000);
            if (!(p.Lr > 0 && double.IsFinite(p.Lr))) throw new ConfigException($"{at}.lr", $"must be > 0, got {p.Lr}");
            NonNegative($"{at}.warmup-steps", p.WarmupSteps);
        }
        if (phases[^1].Factor != 1) throw new ConfigException($"{key}[{phases.Count - 1}].factor", $"the last phase must be at full resolution (factor 1), got {phases[^1].Factor}");
    }

    /// <summary>The configuration key behind an <see cref="HtsatConfig"/> value.</summary>
    static string HtsatKey(string? parameter) => parameter switch
    {
        nameof(HtsatConfig.MelBins) => "model.mel-bins",
        nameof(HtsatConfig.TargetLength) => "model.target-length",
        nameof(HtsatConfig.EmbedDim) => "model.htsat.embed-dim",
        nameof(HtsatConfig.Depths) => "model.htsat.depths",
        nameof(HtsatConfig.Heads) => "model.htsat.heads",
        nameof(HtsatConfig.Window) => "model.htsat.window",
        _ => "model.htsat",
    };

    /// <summary>Upper bounds far above any real run, so a typo (an extra zero, a negative sign) is an error naming the key instead of an allocation that takes the machine down.</summary>
    static void InRange(string key, int value, int min, int max)
    {
        if (value < min || value > max) throw new ConfigException(key, $"must be between {min} and {max}, got {value}");
    }

    static void Positive(string key, int value) { if (value <= 0) throw new ConfigException(key, $"must be > 0, got {value}"); }
    static void NonNegative(string key, int value) { if (value < 0) throw new ConfigException(key, $"must be >= 0, got {value}"); }
    static void Required(string key, string? value) { if (string.IsNullOrWhiteSpace(value)) throw new ConfigException(key, "is required for this data.source"); }

    static readonly JsonSerializerOptions CanonicalJson = new() { WriteIndented = false };

    /// <summary>JSON of the whole experiment (System.Text.Json, declaration order: canonical for a given build).</summary>
    public string ToJson(bool indented = false) =>
        JsonSerializer.Serialize(this, indented ? new JsonSerializerOptions { WriteIndented = true } : CanonicalJson);

    public static ExperimentConfig FromJson(string json) =>
        JsonSerializer.Deserialize<ExperimentConfig>(json) ?? throw new ConfigException("(json)", "empty experiment JSON");

    /// <summary>The run identity's hash (<see cref="ConfigIdentity"/>).</summary>
    public string Hash() => ConfigIdentity.Hash(this);

    /// <summary>
    /// This configuration as the run recorded with <paramref name="recordedHash"/> started it: a run started while a float32
    /// cache was the default keeps float32 (its inputs were rounded no other way); any other difference is the caller's to refuse.
    /// </summary>
    public ExperimentConfig AsStarted(string recordedHash)
    {
        if (recordedHash == Hash() || Data.ResolvedCache.Precision != FeaturePrecision.Float16) return this;
        var float32 = this with { Data = Data with { Cache = Data.ResolvedCache with { Precision = FeaturePrecision.Float32 } } };
        return float32.Hash() == recordedHash ? float32 : this;
    }
}
