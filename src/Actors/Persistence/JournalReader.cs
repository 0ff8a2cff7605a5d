using Akka.Actor;
using Akka.Persistence;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Reads a run's journal without acting on it (for `status`): recovers the same <see cref="RunState"/> the phase
/// supervisor would, answers <see cref="GetRunState"/>, and never persists. A recovery that fails says why (through
/// the failure source it is given) before the reader stops: a timeout is not a damaged journal.
/// </summary>
public sealed class JournalReader : ReceivePersistentActor
{
    readonly TaskCompletionSource<Exception> _failure;
    RunState _state = RunState.Empty;

    public override string PersistenceId { get; }

    public JournalReader(string persistenceId, TaskCompletionSource<Exception> failure)
    {
        PersistenceId = persistenceId;
        _failure = failure;
        Recover<ISupervisorEvent>(e => _state = _state.Apply(e));
        Command<GetRunState>(_ => Sender.Tell(_state));
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _failure.TrySetResult(reason);
        base.OnRecoveryFailure(reason, message);
    }

    public static Props Props(string persistenceId, TaskCompletionSource<Exception> failure) =>
        Akka.Actor.Props.Create(() => new JournalReader(persistenceId, failure));
}
