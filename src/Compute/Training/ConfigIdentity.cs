using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ActorTraining.Compute.Training;

/// <summary>
/// What in an experiment decides its results: the run identity a run directory is resumed against (with the data's own
/// fingerprint, CorpusFingerprint). Version 1 lists its fields on purpose (<see cref="V1"/>): a key added to the
/// configuration is not part of any identity until it is listed here, so adding one never changes an existing run's
/// hash. A field listed later must be left out of the JSON at its default (the configuration's records omit it when
/// null or default), so that every run not using it keeps its hash; the pinned hashes in ConfigIdentityTests say so.
/// </summary>
public static class ConfigIdentity
{
    /// <summary>A JSON object's fields to keep, each with the fields of its own value (null: the value as it is).
    /// An array applies the same fields to every element.</summary>
    public sealed class Fields : Dictionary<string, Fields?>;

    static Fields Of(params (string Name, Fields? Inner)[] fields)
    {
        var result = new Fields();
        foreach (var (name, inner) in fields) result[name] = inner;
        return result;
    }

    static (string, Fields?) F(string name, Fields? inner = null) => (name, inner);

    static readonly Fields Phase = Of(F("Method"), F("Factor"), F("Pooling"), F("Epochs"), F("Lr"), F("WarmupSteps"));

    /// <summary>Version 1: what the configuration held when the identity became its own type. Left out by
    /// <see cref="Normalised"/> (set to their neutral value first): where the data files are, how many workers prepare
    /// data, the recovery settings, the devices, and the feature cache unless it rounds to float16.</summary>
    public static readonly Fields V1 = Of(
        F("Data", Of(F("Source"), F("TrainDatafile"), F("EvalDatafile"), F("LabelCsv"), F("FolderRoot"), F("EvalFraction"),
            F("Synthetic", Of(F("TrainClipsPerClass"), F("EvalClipsPerClass"), F("Seed"), F("MinSeconds"), F("MaxSeconds"))),
            F("Cache", Of(F("Enabled"), F("Directory"), F("Precision"), F("MaxGigabytes"))),
            F("Balanced", Of(F("WeightsFile"), F("WeightsSha256"))), F("Shards", Of(F("Partitions"), F("WindowShards"))))),
        F("Model", Of(F("Size"), F("EmbedDim"), F("Depth"), F("Heads"), F("PatchSize"), F("FStride"), F("TStride"), F("MelBins"),
            F("TargetLength"), F("Init", Of(F("Kind"), F("Path"), F("Sha256"))),
            F("Htsat", Of(F("EmbedDim"), F("Depths"), F("Heads"), F("Window"), F("FreqRatio"), F("PatchSize"))), F("PatchTime"), F("Pooling"))),
        F("FrontEnd", Of(F("FrameShiftMs"), F("Mean"), F("Std"), F("FreqM"), F("TimeM"), F("Mixup"), F("Progressive"))),
        F("Training", Of(F("BatchSize"), F("Seed"), F("Loss"), F("Metric"), F("LrDecayStart"), F("LrDecayStep"), F("LrDecayGamma"),
            F("NumWorkers"), F("CheckpointEverySteps"), F("Optimizer"), F("MaxRestarts"), F("RestartBackoffSeconds"),
            F("StallTimeoutSeconds"), F("JournalOutageTimeoutSeconds"), F("Devices"),
            F("Adaptive", Of(F("Signal"), F("Budget"), F("MinEpochs"), F("Patience"), F("Window"), F("ExpectedGain"))),
            F("Averaging", Of(F("Start"), F("End"))), F("Pretraining", Of(F("MaskRatio"))), F("ClipGradNorm"),
            F("ContinuousLr", Of(F("CoolDown"))))),
        F("Curriculum", Phase),
        F("Compare", Phase));

    /// <summary>SHA-256 (hex) of the version-1 identity JSON of <paramref name="config"/>.</summary>
    public static string Hash(ExperimentConfig config) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Json(config, V1))));

    /// <summary>The identity JSON: the normalised configuration's fields that <paramref name="fields"/> lists, in declaration order.</summary>
    public static string Json(ExperimentConfig config, Fields fields) =>
        Keep(JsonNode.Parse(Normalised(config).ToJson())!, fields).ToJsonString();

    /// <summary>The configuration with what does not change results set to its neutral value.</summary>
    static ExperimentConfig Normalised(ExperimentConfig c) => c with
    {
        // of the cache only float16 changes results (every fbank rounded); float32 serves the computed values bit for bit
        Data = c.Data with { TrainDatafile = null, EvalDatafile = null, LabelCsv = null, FolderRoot = null,
            Balanced = c.Data.Balanced is { } balanced ? balanced with { WeightsFile = null } : null,
            Cache = c.Data.ResolvedCache is { Enabled: true, Precision: Features.FeaturePrecision.Float16 }
                ? new FeatureCacheConfig(true, null, Features.FeaturePrecision.Float16, 0) : null },
        // the init file's content is the run's, its location is not
        Model = c.Model with { Init = c.Model.Init is { } init ? init with { Path = "" } : null },
        Training = c.Training with { NumWorkers = 0, MaxRestarts = 0, RestartBackoffSeconds = 0, StallTimeoutSeconds = 0, JournalOutageTimeoutSeconds = 0, Devices = null },
    };

    static JsonNode Keep(JsonNode node, Fields? fields)
    {
        if (fields is null) return node.DeepClone();
        if (node is JsonArray array) return new JsonArray(array.Select(e => e is null ? null : Keep(e, fields)).ToArray());
        var kept = new JsonObject();
        foreach (var (name, value) in node.AsObject())
            if (fields.TryGetValue(name, out var inner)) kept[name] = value is null ? null : Keep(value, inner);
        return kept;
    }
}
