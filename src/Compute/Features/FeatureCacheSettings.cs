using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Features;

/// <summary>How a cached fbank is stored: float32 (bit-identical to a fresh one) or float16 (half the disk).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FeaturePrecision>))]
public enum FeaturePrecision { [JsonStringEnumMemberName("float32")] Float32, [JsonStringEnumMemberName("float16")] Float16 }

/// <summary>
/// Where the feature cache lives (shared by every pipeline, rank and run that names the same folder), at which precision,
/// and how many bytes it may hold; once they are reached, clips not yet cached are computed each time they are read.
/// </summary>
public sealed record FeatureCacheSettings(string Directory, FeaturePrecision Precision, long MaxBytes);
