using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Model;

/// <summary><c>model.pooling</c>: what the AST's head reads. <c>cls</c>: the mean of the final cls and distillation
/// tokens (AST; SSAST's <c>ft_cls</c>); <c>mean-tokens</c>: the mean of the final patch tokens (SSAST's <c>ft_avgtok</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AstPooling>))]
public enum AstPooling { [JsonStringEnumMemberName("cls")] Cls, [JsonStringEnumMemberName("mean-tokens")] MeanTokens }
