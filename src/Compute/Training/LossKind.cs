using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Training;

/// <summary>BCE with logits for multi-label corpora, cross-entropy (soft targets) for single-label ones.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LossKind>))]
public enum LossKind { [JsonStringEnumMemberName("bce")] BinaryCrossEntropy, [JsonStringEnumMemberName("ce")] CrossEntropy }
