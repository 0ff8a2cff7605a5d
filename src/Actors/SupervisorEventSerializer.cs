using System.Text;
using System.Text.Json;
using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// How the phase supervisor's events are written to the journal: JSON (System.Text.Json) under a stable manifest per
/// event — never a CLR type name, so renaming or moving a class does not orphan a journal. The table below is the
/// contract: a manifest, once written, keeps its meaning; an event whose shape changes incompatibly gets a new
/// manifest (".v2") and the old one keeps a reader. Bound to <see cref="ISupervisorEvent"/> by
/// <see cref="PersistenceConfig"/>. Journals written before this serializer (Akka's Newtonsoft JSON, identifier 1)
/// are still read by that serializer: the row names its serializer.
/// </summary>
public sealed class SupervisorEventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4190;

    /// <summary>Every event type and its manifest.</summary>
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
    };

    static readonly IReadOnlyDictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    // NaN is a legitimate metric value (an epoch's loss with no sample), written as "NaN".
    static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType().Name} has no journal manifest (add it to SupervisorEventSerializer.Manifests)");

    public override byte[] ToBinary(object obj)
    {
        Manifest(obj); // refuses an unregistered type before anything is written
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new SerializationException($"journal event with unknown manifest '{manifest}' (written by a newer ActorTraining?)");
        try
        {
            return JsonSerializer.Deserialize(bytes, type, Json)
                ?? throw new SerializationException($"journal event '{manifest}' is empty");
        }
        catch (JsonException e)
        {
            throw new SerializationException($"journal event '{manifest}' is unreadable: {e.Message} ({Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 120))})", e);
        }
    }

    /// <summary>The HOCON that binds every supervisor event to this serializer.</summary>
    public static string Config => $$"""
        akka.actor {
          serializers.supervisor-events = "{{typeof(SupervisorEventSerializer).AssemblyQualifiedName!.Split(", Version")[0]}}"
          serialization-bindings {
            "{{typeof(ISupervisorEvent).AssemblyQualifiedName!.Split(", Version")[0]}}" = supervisor-events
          }
        }
        """;
}
