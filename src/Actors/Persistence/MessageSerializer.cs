using System.Text;
using System.Text.Json;
using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// How every control message is written — the phase supervisor's journal events, and all that nodes send each other
/// over Akka remoting: JSON (System.Text.Json) under a stable manifest per type, never a CLR type name, so renaming or
/// moving a class does not orphan a journal nor split a cluster of two builds. The table below is the contract: a
/// manifest, once written, keeps its meaning; a type whose shape changes incompatibly gets a new manifest (".v2")
/// and the old one keeps a reader. Bound to <see cref="IControlMessage"/> (journal events included) by
/// Akka.Hosting's WithCustomSerializer (see AkkaSetup). Float arrays (scores) go as base64 of their bytes (exact and compact); actor references as
/// Akka's serialized paths; a message inside a message (<see cref="RunEvent"/>) with its own manifest. Journals
/// written before this serializer (Akka's Newtonsoft JSON, identifier 1) are still read by that serializer: the row
/// names its serializer.
/// </summary>
public sealed class MessageSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer's identifier, in every journal row it wrote: never to change.</summary>
    public const int Id = 4190;

    /// <summary>Journal events (the first nine were the supervisor's journal before the cluster) and control messages.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(RunStarted)] = "run-started.v1",
        [typeof(PhaseStarted)] = "phase-started.v1",
        [typeof(CheckpointCommitted)] = "checkpoint-committed.v1",
        [typeof(EpochCompleted)] = "epoch-completed.v1",
        [typeof(PhaseCompleted)] = "phase-completed.v1",
        [typeof(RunCompleted)] = "run-completed.v1",
        [typeof(TrainingRestarted)] = "training-restarted.v1",
        [typeof(RestartBudgetSpent)] = "restart-budget-spent.v1",
        [typeof(RestartBudgetReset)] = "restart-budget-reset.v1",
        [typeof(GenerationFormed)] = "generation-formed.v1",
        [typeof(PhaseLengthDecided)] = "phase-length-decided.v1",
        [typeof(WeightsAveraged)] = "weights-averaged.v1",
        [typeof(AveragedWeightsEvaluated)] = "averaged-weights-evaluated.v1",
        [typeof(PhaseProbed)] = "phase-probed.v1",
        [typeof(CurriculumStuck)] = "curriculum-stuck.v1",

        [typeof(StartRun)] = "start-run.v1",
        [typeof(GetRunState)] = "get-run-state.v1",
        [typeof(RunFailed)] = "run-failed.v1",
        [typeof(TrainingFaulted)] = "training-faulted.v1",
        [typeof(TrainingProgress)] = "training-progress.v1",
        [typeof(CommitCheckpoint)] = "commit-checkpoint.v1",
        [typeof(CheckpointRef)] = "checkpoint-ref.v1",
        [typeof(RegisterRanks)] = "register-ranks.v1",
        [typeof(RanksRegistered)] = "ranks-registered.v1",
        [typeof(RanksRefused)] = "ranks-refused.v1",
        [typeof(JoinGeneration)] = "join-generation.v1",
        [typeof(GenerationReady)] = "generation-ready.v1",
        [typeof(PauseGeneration)] = "pause-generation.v1",
        [typeof(AbortGeneration)] = "abort-generation.v1",
        [typeof(RankStopped)] = "rank-stopped.v1",
        [typeof(ReplicaHash)] = "replica-hash.v1",
        [typeof(EvaluateCheckpoint)] = "evaluate-checkpoint.v1",
        [typeof(EvaluateShard)] = "evaluate-shard.v1",
        [typeof(ScoredRows)] = "scored-rows.v1",
        [typeof(EvaluationAborted)] = "evaluation-aborted.v1",
        [typeof(EvaluationDone)] = "evaluation-done.v1",
        [typeof(EvaluationProgress)] = "evaluation-progress.v1",
        [typeof(ClipScores)] = "clip-scores.v1",
        [typeof(RunEvent)] = "run-event.v1",
        [typeof(AdoptGeneration)] = "adopt-generation.v1",
        [typeof(CommitAcknowledged)] = "commit-acknowledged.v1",
        [typeof(RegisterAgain)] = "register-again.v1",
        [typeof(ExperimentEnded)] = "experiment-ended.v1",
        [typeof(ExtendPhase)] = "extend-phase.v1",
        [typeof(ProbeNextPhase)] = "probe-next-phase.v1",
        [typeof(ProbeMeasured)] = "probe-measured.v1",
        [typeof(ProbeFailed)] = "probe-failed.v1",
    };

    static readonly IReadOnlyDictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    readonly JsonSerializerOptions _json;

    public MessageSerializer(ExtendedActorSystem system) : base(system)
    {
        // NaN is a legitimate metric value (an epoch's loss with no sample), written as "NaN".
        _json = new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        _json.Converters.Add(new FloatsAsBase64());
        _json.Converters.Add(new ActorRefAsPath(system));
        _json.Converters.Add(new NestedMessage(this));
    }

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType().Name} has no manifest (add it to MessageSerializer.Manifests)");

    public override byte[] ToBinary(object obj)
    {
        Manifest(obj); // refuses an unregistered type before anything is written
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _json);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new SerializationException($"message with unknown manifest '{manifest}' (written by a newer ActorTraining?)");
        try
        {
            return JsonSerializer.Deserialize(bytes, type, _json)
                ?? throw new SerializationException($"message '{manifest}' is empty");
        }
        catch (JsonException e)
        {
            throw new SerializationException($"message '{manifest}' is unreadable: {e.Message} ({Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 120))})", e);
        }
    }

    sealed class FloatsAsBase64 : JsonConverter<float[]>
    {
        public override float[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var bytes = reader.GetBytesFromBase64();
            if (bytes.Length % sizeof(float) != 0) throw new JsonException($"{bytes.Length} bytes are not whole floats");
            var floats = new float[bytes.Length / sizeof(float)];
            Buffer.BlockCopy(bytes, 0, floats, 0, bytes.Length);
            return floats;
        }

        public override void Write(Utf8JsonWriter writer, float[] value, JsonSerializerOptions options)
        {
            var bytes = new byte[value.Length * sizeof(float)];
            Buffer.BlockCopy(value, 0, bytes, 0, bytes.Length);
            writer.WriteBase64StringValue(bytes);
        }
    }

    sealed class ActorRefAsPath(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetString() is { Length: > 0 } path ? system.Provider.ResolveActorRef(path) : ActorRefs.Nobody;

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Serialization.SerializedActorPath(value));
    }

    /// <summary>A control message inside another (a run's event to the nodes): its manifest and its own JSON.</summary>
    sealed class NestedMessage(MessageSerializer outer) : JsonConverter<IControlMessage>
    {
        public override IControlMessage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            var manifest = doc.RootElement.GetProperty("manifest").GetString()!;
            var json = Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("message").GetRawText());
            return (IControlMessage)outer.FromBinary(json, manifest);
        }

        public override void Write(Utf8JsonWriter writer, IControlMessage value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteString("manifest", outer.Manifest(value));
            writer.WritePropertyName("message");
            writer.WriteRawValue(outer.ToBinary(value));
            writer.WriteEndObject();
        }
    }
}
