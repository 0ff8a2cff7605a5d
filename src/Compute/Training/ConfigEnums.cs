using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Training;

/// <summary>data.source: where the clips come from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DataSource>))]
public enum DataSource { [JsonStringEnumMemberName("synthetic")] Synthetic, [JsonStringEnumMemberName("datafile")] Datafile, [JsonStringEnumMemberName("folder")] Folder, [JsonStringEnumMemberName("shards")] Shards }

/// <summary>training.adaptive.signal: what the adaptive phase scheduler reads an epoch's progress from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AdaptiveSignal>))]
public enum AdaptiveSignal { [JsonStringEnumMemberName("metric")] Metric, [JsonStringEnumMemberName("eval-loss")] EvalLoss }

/// <summary>training.adaptive.budget: what a coarse phase's unused share is counted in.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AdaptiveBudget>))]
public enum AdaptiveBudget { [JsonStringEnumMemberName("flops")] Flops, [JsonStringEnumMemberName("epochs")] Epochs }

/// <summary><c>training.adaptive.rule</c>: how a started phase ends — by the gain the next resolution is expected to give
/// (<c>gain</c>, <see cref="PhaseLengthRule"/>) or by the slope a probe of it measured (<c>slope</c>, <see cref="SlopeRule"/>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AdaptiveRule>))]
public enum AdaptiveRule { [JsonStringEnumMemberName("gain")] Gain, [JsonStringEnumMemberName("slope")] Slope }
