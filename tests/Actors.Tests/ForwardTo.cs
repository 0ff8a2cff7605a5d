using Akka.Actor;

namespace ActorTraining.Actors.Tests;

/// <summary>Stands in a child slot (trainer, evaluator) and forwards what it gets to a test probe.</summary>
public sealed class ForwardTo : ReceiveActor
{
    public ForwardTo(IActorRef target) => ReceiveAny(m => target.Forward(m));

    public static Props Props(IActorRef target) => Akka.Actor.Props.Create(() => new ForwardTo(target));
}
