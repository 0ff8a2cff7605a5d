using Akka.Actor;
using Akka.Event;

namespace ActorTraining.Actors;

/// <summary>Deletes the checkpoint files the run no longer needs (<see cref="RunState.CheckpointsToDelete"/>), off the supervisor's mailbox.</summary>
public sealed class CheckpointJanitor : ReceiveActor
{
    public sealed record Delete(IReadOnlyList<string> Paths);

    public CheckpointJanitor()
    {
        var log = Context.GetLogger();
        Receive<Delete>(d =>
        {
            foreach (var path in d.Paths)
            {
                try
                {
                    if (File.Exists(path)) File.Delete(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    log.Warning("could not delete superseded checkpoint {0}: {1}", path, ex.Message);
                }
            }
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new CheckpointJanitor());
}
