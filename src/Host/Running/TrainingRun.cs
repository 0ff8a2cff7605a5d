using Akka.Actor;
using ActorTraining.Actors;
using ActorTraining.Compute.Reporting;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>
/// `train`: every curriculum of the experiment (the curriculum, then each comparison run), one after another, each
/// driven by its own persistent <see cref="PhaseSupervisor"/> in the run directory's journal. Rerunning on the same
/// directory resumes each run where its journal says (a finished run is not trained again).
/// </summary>
public sealed class TrainingRun(ExperimentConfig config, TrainingData data, string runDirectory, string runId, int workers)
{
    public sealed record Result(int RunIndex, RunState State, ClipNotes Clips, string? Failure);

    public async Task<IReadOnlyList<Result>> RunAll(ActorSystem system)
    {
        var results = new List<Result>();
        var runs = config.Runs();
        for (int r = 0; r < runs.Count; r++)
        {
            var result = await RunOne(system, r, runs.Count);
            results.Add(result);
            if (result.Failure is not null) break;
        }
        return results;
    }

    async Task<Result> RunOne(ActorSystem system, int runIndex, int runCount)
    {
        var settings = new RunSettings(config, runIndex, data.Train, data.Eval, data.Labels,
            Path.Combine(runDirectory, "checkpoints"), workers, data.Fingerprint);
        var plan = settings.Plan();
        var name = ExperimentConfig.Label(config.Runs()[runIndex]);
        Console.WriteLine($"run {runIndex + 1}/{runCount} ({name}): {string.Join(" → ", config.Runs()[runIndex])}");
        var outcome = new TaskCompletionSource<IControlMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clips = new ClipNotes();
        var monitor = system.ActorOf(RunMonitor.Props(new ProgressDisplay(name, config.Training.BatchSize), plan, outcome, clips,
            config.Training.ResolvedMetric, name, state => EpochRecords.From(state, config, runIndex, data.Labels.Count),
            new RunLog(runDirectory)), $"monitor-r{runIndex}");
        var supervisor = system.ActorOf(PhaseSupervisor.Props(PhaseSupervisor.IdOf(runId, runIndex), Trainer.Props(settings),
            Evaluator.Props(settings, reportsProgress: true), monitor, RecoverySettings.Of(config.Training)), $"run-r{runIndex}");
        supervisor.Tell(new StartRun(settings.ConfigHash, plan));
        // never wait on a supervisor that is gone (it reports its own failures; this covers what it could not report)
        var stopped = supervisor.WatchAsync();
        if (await Task.WhenAny(outcome.Task, stopped) == stopped)
            outcome.TrySetResult(new RunFailed("the phase supervisor stopped without reporting an outcome; the journal is intact — rerun to resume"));
        var end = await outcome.Task;
        // the final state for the summary, unless the supervisor is gone (it failed and said so)
        var ask = supervisor.Ask<RunState>(GetRunState.Instance, TimeSpan.FromSeconds(30));
        await Task.WhenAny(ask, stopped);
        var state = ask.IsCompletedSuccessfully ? ask.Result : RunState.Empty;
        if (!stopped.IsCompleted) await supervisor.GracefulStop(TimeSpan.FromSeconds(30));
        system.Stop(monitor);
        return new Result(runIndex, state, clips, (end as RunFailed)?.Reason);
    }
}
