using Akka.Actor;
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
    /// <summary>Scores <paramref name="clips"/> with the checkpoint: metrics (<see cref="EvaluationDone"/>) or, for
    /// probabilities and embeddings, one row per readable clip in list order (<see cref="ClipScores"/>).</summary>
    public static async Task<T> Run<T>(string checkpointPath, IReadOnlyList<DatasetEntry> clips, ScoreOutput output, bool verbose)
        where T : class
    {
        var full = Path.GetFullPath(checkpointPath);
        var manifest = CheckpointManifest.Read(full);
        var header = CheckpointFile.ReadHeader(full);
        if (header.Model.Pretraining && output == ScoreOutput.Probabilities)
            throw new InvalidDataException($"{full}: an SSAST pretraining checkpoint has no classifier to predict with; " +
                "fine-tune it first (model.init = checkpoint:<file>) and predict with that run's checkpoint");
        var experiment = manifest.Experiment;
        var settings = new RunSettings(experiment, manifest.RunIndex, [], clips, manifest.Labels, Path.GetDirectoryName(full)!,
            experiment.Training.ResolvedNumWorkers);
        await using var local = await LocalActorSystem.Start("checkpoint-job", verbose);
        var system = local.System;
        {
            var evaluator = system.ActorOf(Evaluator.Props(settings), "evaluator");
            var what = new EvaluateCheckpoint(new CheckpointRef(full, header.Sha256), manifest.Phase, 0);
            long batches = (clips.Count + experiment.Training.BatchSize - 1) / experiment.Training.BatchSize;
            var reply = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            var answer = system.ActorOf(Akka.Actor.Props.Create(() => new Answer(reply)), "answer");
            var collector = system.ActorOf(EvaluationCollector.Props(what, 1, batches, EvaluationCollector.TargetsOf(clips, manifest.Labels), answer,
                prediction: output != ScoreOutput.Metrics, reportsProgress: false, pretext: header.Model.Pretraining), "collector");
            evaluator.Tell(new EvaluateShard(manifest.RunIndex, 1, what, 0, 1, collector, output));
            var answered = await reply.Task.WaitAsync(TimeSpan.FromHours(1));
            return answered switch
            {
                T result => result,
                RunFailed f => throw new InvalidDataException(f.Reason),
                TrainingFaulted f => throw new InvalidDataException(f.Cause),
                _ => throw new InvalidOperationException($"unexpected reply {answered}"),
            };
        }
    }

    /// <summary>Completes a task with the first answer it receives.</summary>
    sealed class Answer : ReceiveActor
    {
        public Answer(TaskCompletionSource<object> reply) => ReceiveAny(m => reply.TrySetResult(m));
    }

    public static LabelSet LabelsOf(string checkpointPath) => CheckpointManifest.Read(Path.GetFullPath(checkpointPath)).Labels;
}
