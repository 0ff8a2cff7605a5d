using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Everything one run's trainer and evaluator need besides their orders: the experiment, which of its curricula
/// this run is (0 = the curriculum, k = compare[k−1]), the loaded train/eval corpora and labels, where checkpoints go.
/// </summary>
public sealed record RunSettings(
    ExperimentConfig Config,
    int RunIndex,
    IReadOnlyList<DatasetEntry> TrainEntries,
    IReadOnlyList<DatasetEntry> EvalEntries,
    LabelSet Labels,
    string CheckpointDirectory,
    int Workers,
    string? DataFingerprint = null,
    RankDevice? Device = null)
{
    /// <summary>The run directory (shared by every node of a cluster): checkpoints, metrics, the corpus index.</summary>
    public string RunDirectory => Path.GetDirectoryName(Path.GetFullPath(CheckpointDirectory))!;

    /// <summary>The device this run's trainer and evaluator compute on (the CPU unless a rank was given another).</summary>
    public RankDevice RankDevice => Device ?? RankDevice.Cpu;

    public IReadOnlyList<PhaseConfig> Curriculum => Config.Runs()[RunIndex];

    /// <summary>The run's identity in its journal (<see cref="RunFingerprint"/>).</summary>
    public string ConfigHash => new RunFingerprint(Config.Hash(), DataFingerprint).ToString();

    /// <summary>The model at full resolution (C = 1); each phase derives its geometry from it.</summary>
    public ModelGeometry FineModel => FineModelOf(Config, Labels.Count);

    /// <summary>The C = 1 model of the experiment for <paramref name="classes"/> classes: its AST (SSAST's pretraining model
    /// under training.objective = ssast-pretrain), or its HTS-AT.</summary>
    public static ModelGeometry FineModelOf(ExperimentConfig config, int classes)
    {
        var m = config.Model;
        if (m.Htsat is { } htsat) return htsat.Geometry(classes, m.MelBins, m.TargetLength);
        var (dim, depth, heads) = ModelConfig.Preset(m.Size) ?? (m.EmbedDim, m.Depth, m.Heads);
        return new ModelGeometry(new AstConfig(dim, depth, heads, classes, m.MelBins, m.TargetLength, m.PatchSize, m.ResolvedPatchTime, m.FStride, m.TStride, m.Pooling),
            null, config.Training.Pretraining);
    }

    public ModelGeometry PhaseModel(PhasePlan phase) => phase.Compression.ModelConfig(FineModel);

    /// <summary>The curriculum as the supervisor plans it (input frames per phase from the compression).</summary>
    public IReadOnlyList<PhasePlan> Plan() => PlanOf(Config, RunIndex);

    public static IReadOnlyList<PhasePlan> PlanOf(ExperimentConfig config, int runIndex) =>
        config.Runs()[runIndex].Select((p, i) => new PhasePlan(i, p.Compression, p.Epochs, p.Lr, p.WarmupSteps,
            p.Compression.TargetLength(config.Model.TargetLength))).ToList();

    /// <summary>The adaptive scheduler's settings with each phase's training FLOPs per sample; null for fixed phase lengths.</summary>
    public AdaptiveSchedule? Schedule()
    {
        if (Config.Training.Adaptive is not { } a) return null;
        var fine = FineModelOf(Config, Labels.Count);
        var sampleFlops = Plan().Select(p => FlopCounter.PerSample(p.Compression.ModelConfig(fine)))
            .Select(f => f.Forward + f.Backward).ToList();
        bool loss = a.Signal == AdaptiveSignal.EvalLoss;
        var metric = Config.Training.ResolvedMetric;
        double chance = Chance(metric);
        bool gate = a.StartedGate && Config.Training.Pretraining is null && chance is > 0 and < 1 && EvalEntries.Count > 0;
        return new AdaptiveSchedule(loss ? "eval_loss" : metric, HigherIsBetter: !loss, BudgetInFlops: a.Budget == AdaptiveBudget.Flops,
            a.MinEpochs, a.Patience, a.Window, a.ExpectedGain, sampleFlops,
            gate ? metric : null, gate ? StartedGate.Threshold(chance, EvalEntries.Count) : double.NaN,
            a.Rule == AdaptiveRule.Slope && Config.Training.Pretraining is null ? ProbeSteps(a.ProbeBudget, sampleFlops) : null);
    }

    /// <summary>The fewest steps a probe's burst takes, whatever its budget: fewer cannot show a loss falling.</summary>
    public const int MinProbeSteps = 8;

    /// <summary>Per phase, the burst that probes the next resolution: <paramref name="budget"/> of the run's training FLOPs
    /// budget (every phase's curriculum epochs) in steps of the next phase, at least <see cref="MinProbeSteps"/>; 0 for the last phase.</summary>
    List<int> ProbeSteps(double budget, IReadOnlyList<double> sampleFlops)
    {
        var plan = Plan();
        long samples = TrainEntries.Count;
        int batch = Config.Training.BatchSize;
        double runFlops = plan.Sum(p => p.Epochs * samples * sampleFlops[p.Index]);
        return plan.Select(p => p.Index + 1 < plan.Count
            ? Math.Max(MinProbeSteps, (int)Math.Floor(budget * runFlops / (batch * sampleFlops[p.Index + 1]))) : 0).ToList();
    }

    /// <summary>The metric's chance level on the evaluation set: 1/classes for accuracy; for mAP the mean, over the
    /// classes present in it, of each class's share of the clips (a random ranking's expected precision).</summary>
    double Chance(string metric)
    {
        if (metric != "map") return 1.0 / Labels.Count;
        var counts = EvalEntries.SelectMany(e => e.Labels.Distinct()).GroupBy(l => l).Select(g => (double)g.Count() / EvalEntries.Count).ToList();
        return counts.Count == 0 ? double.NaN : counts.Average();
    }

    /// <summary>The weight averaging that ends the run (<c>training.weight-averaging</c>: 1-based there, negative from the end), or null.</summary>
    public WeightAveraging? Averaging() => Config.Training.Averaging is { } wa
        ? new WeightAveraging(wa.Start > 0 ? wa.Start - 1 : wa.Start, wa.End > 0 ? wa.End - 1 : wa.End) : null;

    /// <summary>The data pipeline of a phase: training (shuffled, augmented) or evaluation (in order, no augmentation), reading <paramref name="share"/>.</summary>
    public PipelineSpec Pipeline(PhasePlan phase, bool training, DataShare share) => PipelineOf(Config, phase, training ? TrainEntries : EvalEntries,
        Labels, training, Workers, share, FeatureCacheOf(Config, RunDirectory)) with
        {
            Weights = training ? TrainWeights : null,
            ShardCache = Config.Data.Shards is { } shards ? TrainingData.ShardCacheOf(shards) : null,
        };

    /// <summary>A training rank's share of each global batch: its slice, or on a shard corpus its canonical partitions.</summary>
    public DataShare TrainShare(int rank, int world)
    {
        int batch = Config.Training.BatchSize;
        return TrainEntries is ShardCorpus shards ? DataShare.Partitioned(batch, rank, world, shards.Interleave) : DataShare.Slice(batch, rank, world);
    }

    SampleWeights? _trainWeights;

    /// <summary>The balanced sampler's weights of the training clips (<c>data.sampler = balanced</c>), computed once; null
    /// for the plain shuffle.</summary>
    public SampleWeights? TrainWeights => Config.Data.Balanced is not { } balanced ? null
        : _trainWeights ??= balanced.WeightsFile is { } file ? SampleWeights.FromCsv(file, TrainEntries.Count)
            : SampleWeights.FromLabelFrequencies(TrainEntries, Labels);

    /// <summary>The run's feature cache (null when turned off): <c>data.cache.dir</c>, or <c>feature-cache</c> in the run directory.</summary>
    public static FeatureCacheSettings? FeatureCacheOf(ExperimentConfig config, string runDirectory) => config.Data.ResolvedCache is { Enabled: true } c
        ? new FeatureCacheSettings(c.Directory ?? Path.Combine(runDirectory, "feature-cache"),
            c.Precision, (long)(c.MaxGigabytes * 1e9))
        : null;

    public static PipelineSpec PipelineOf(ExperimentConfig config, PhasePlan phase, IReadOnlyList<DatasetEntry> entries,
        LabelSet labels, bool training, int workers, DataShare share, FeatureCacheSettings? cache = null)
    {
        var compression = phase.Compression;
        var fe = config.FrontEnd;
        double scale = fe.RegularisationScale(compression);
        return new PipelineSpec(entries, labels, config.Training.Seed, Shuffle: training, Augment: training,
            MixupProbability: fe.Mixup * scale, BaseFrameShiftMs: fe.FrameShiftMs, MelBins: config.Model.MelBins,
            FineTargetFrames: config.Model.TargetLength, Compression: compression,
            InputFrames: phase.InputFrames, Mean: fe.Mean, Std: fe.Std, FreqMask: (int)Math.Round(fe.FreqM * scale),
            TimeMask: compression.TimeMask((int)Math.Round(fe.TimeM * scale)), BatchSize: config.Training.BatchSize, Workers: workers, Share: share, Cache: cache);
    }
}
