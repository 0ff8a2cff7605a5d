using System.Text.Json;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// What a checkpoint file needs around it to be used on its own (`evaluate`, `predict`): the experiment, which run
/// and phase wrote it (its geometry and compression) and the label list. Stored inside the checkpoint file's head
/// (<see cref="CheckpointFile"/>), so the file's SHA-256 covers it and it can never disagree with the weights.
/// </summary>
public sealed record CheckpointManifest(string ExperimentJson, int RunIndex, PhasePlan Phase, IReadOnlyList<string> Mids,
    IReadOnlyList<string> DisplayNames)
{
    public ExperimentConfig Experiment => ExperimentConfig.FromJson(ExperimentJson);

    public LabelSet Labels => new(Mids, DisplayNames);

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The manifest of a checkpoint file (verified first).</summary>
    public static CheckpointManifest Read(string checkpointPath)
    {
        if (!File.Exists(checkpointPath)) throw new FileNotFoundException($"{checkpointPath}: checkpoint not found", checkpointPath);
        var header = CheckpointFile.ReadHeader(checkpointPath);
        if (header.Manifest.Length == 0) throw new InvalidDataException($"{checkpointPath}: the checkpoint has no manifest (not written by `train`)");
        try
        {
            return JsonSerializer.Deserialize<CheckpointManifest>(header.Manifest)
                ?? throw new InvalidDataException($"{checkpointPath}: empty checkpoint manifest");
        }
        catch (JsonException e) { throw new InvalidDataException($"{checkpointPath}: unreadable checkpoint manifest: {e.Message}", e); }
    }
}
