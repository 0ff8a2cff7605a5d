using System.Text.Json;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// What a checkpoint file needs around it to be used on its own (`evaluate`, `predict`): the experiment, which run
/// and phase wrote it (its geometry and compression) and the label list. Kept beside the checkpoint as
/// <c>&lt;checkpoint&gt;.json</c>, written (atomically) before the checkpoint itself.
/// </summary>
public sealed record CheckpointManifest(string ExperimentJson, int RunIndex, PhasePlan Phase, IReadOnlyList<string> Mids,
    IReadOnlyList<string> DisplayNames)
{
    public static string PathFor(string checkpointPath) => checkpointPath + ".json";

    public ExperimentConfig Experiment => ExperimentConfig.FromJson(ExperimentJson);

    public LabelSet Labels => new(Mids, DisplayNames);

    public void Write(string checkpointPath)
    {
        var path = PathFor(checkpointPath);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this));
        File.Move(tmp, path, overwrite: true);
    }

    public static CheckpointManifest Read(string checkpointPath)
    {
        var path = PathFor(checkpointPath);
        if (!File.Exists(checkpointPath)) throw new FileNotFoundException($"{checkpointPath}: checkpoint not found", checkpointPath);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the checkpoint's manifest is missing (it is written beside every checkpoint `train` makes)", path);
        try
        {
            return JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty checkpoint manifest");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: unreadable checkpoint manifest: {e.Message}", e); }
    }
}
