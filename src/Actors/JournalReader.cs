using Akka.Actor;
using Akka.Persistence;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Reads a run's journal without acting on it (for `status`): recovers the same <see cref="RunState"/> the phase
/// supervisor would, answers <see cref="GetRunState"/>, and never persists.
/// </summary>
public sealed class JournalReader : ReceivePersistentActor
{
    RunState _state = RunState.Empty;

    public override string PersistenceId { get; }

    public JournalReader(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<ISupervisorEvent>(e => _state = _state.Apply(e));
        Command<GetRunState>(_ => Sender.Tell(_state));
    }

    public static Props Props(string persistenceId) => Akka.Actor.Props.Create(() => new JournalReader(persistenceId));
}
