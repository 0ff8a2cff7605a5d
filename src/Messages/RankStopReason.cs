namespace ActorTraining.Messages;

/// <summary>Why a rank stopped training a generation.</summary>
public enum RankStopReason
{
    /// <summary>The phase's last epoch is trained.</summary>
    PhaseTrained,
    /// <summary>A pause was requested; all members stopped after the same step.</summary>
    Paused,
    /// <summary>The ring broke (a member is gone or was aborted); the step in flight was not taken, or taken by all who report it.</summary>
    RingBroken,
}
