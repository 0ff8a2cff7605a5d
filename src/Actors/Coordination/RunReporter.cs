using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Writes what a run's supervisor decided where people look: metrics.jsonl/csv (<see cref="MetricsLog"/>) and
/// TensorBoard (<see cref="TensorBoardLog"/>). An evaluated epoch is announced to the listener only once it is in
/// metrics.jsonl, so whoever hears of it can read it there.
/// </summary>
public sealed class RunReporter : ReceiveActor
{
    /// <summary>A training step, and the run as the journal has it (TensorBoard's x axis is the run's step).</summary>
    public sealed record Step(TrainingProgress Progress, RunState State);

    /// <summary>Writes the evaluated epochs of <paramref name="State"/> not written yet, then tells <paramref name="Announce"/> (if any) to the listener.</summary>
    public sealed record Epochs(RunState State, object? Announce = null);

    readonly TensorBoardLog _tensorBoard;

    public RunReporter(RunSettings settings, IActorRef listener)
    {
        var log = Context.GetLogger();
        var metrics = new MetricsLog(settings);
        _tensorBoard = new TensorBoardLog(settings);
        (int Phase, long Steps) stepsBefore = (-1, 0); // run steps before the phase in progress
        Receive<Step>(s =>
        {
            // the phases before this one are final once it trains: their steps are taken from the journal once per phase
            if (stepsBefore.Phase != s.Progress.Phase) stepsBefore = (s.Progress.Phase, s.State.StepsBefore(s.Progress.Phase));
            _tensorBoard.Step(s.Progress, stepsBefore.Steps, log);
        });
        Receive<Epochs>(e =>
        {
            _tensorBoard.Epochs(metrics.Write(e.State, log), log);
            if (e.Announce is { } announce) listener.Tell(announce, Context.Parent);
        });
    }

    protected override void PostStop() => _tensorBoard.Dispose();

    public static Props Props(RunSettings settings, IActorRef listener) => Akka.Actor.Props.Create(() => new RunReporter(settings, listener));
}
