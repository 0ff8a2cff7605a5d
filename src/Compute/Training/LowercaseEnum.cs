using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Training;

/// <summary>An enum in JSON as the configuration spells it: Float16 as "float16".</summary>
public sealed class LowercaseEnum<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.KebabCaseLower) where T : struct, Enum;
