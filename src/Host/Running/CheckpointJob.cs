using Akka.Actor;
using Akka.Configuration;
using ActorTraining.Actors;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Data;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>
/// `evaluate` and `predict`: one checkpoint (verified against its own SHA-256, geometry and labels from its
/// manifest) run by an <see cref="Evaluator"/> over a list of clips, through the same pipeline `train` uses.
/// </summary>
public static class CheckpointJob
{
    public static async Task<T> Run<T>(string checkpointPath, IReadOnlyList<DatasetEntry> clips, Func<CheckpointRef, PhasePlan, object> order, bool verbose)
        where T : class
    {
        var full = Path.GetFullPath(checkpointPath);
        var manifest = CheckpointManifest.Read(full);
        var header = CheckpointFile.ReadHeader(full);
        var experiment = manifest.Experiment;
        var settings = new RunSettings(experiment, manifest.RunIndex, [], clips, manifest.Labels, Path.GetDirectoryName(full)!,
            experiment.Training.ResolvedNumWorkers);
        using var system = ActorSystem.Create("checkpoint-job",
            ActorSystemFactory.Logging(verbose).WithFallback(PipelineDispatcher.Config()));
        try
        {
            var evaluator = system.ActorOf(Evaluator.Props(settings, reportsProgress: false), "evaluator");
            var reply = await evaluator.Ask<object>(order(new CheckpointRef(full, header.Sha256), manifest.Phase), TimeSpan.FromHours(1));
            return reply switch
            {
                T result => result,
                RunFailed f => throw new InvalidDataException(f.Reason),
                TrainingFaulted f => throw new InvalidDataException(f.Cause),
                _ => throw new InvalidOperationException($"unexpected reply {reply}"),
            };
        }
        finally { await system.Terminate(); }
    }

    public static LabelSet LabelsOf(string checkpointPath) => CheckpointManifest.Read(Path.GetFullPath(checkpointPath)).Labels;
}
