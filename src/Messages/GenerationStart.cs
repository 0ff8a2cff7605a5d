namespace ActorTraining.Messages;

/// <summary>
/// What a generation's ranks start from — exactly one of: <paramref name="Live"/> (the state the member at
/// <paramref name="SourceIndex"/> holds in memory: members holding the same keep theirs, the others fetch it from that
/// member over the data plane), <paramref name="Resume"/> (a committed checkpoint of the phase),
/// <paramref name="TransferFrom"/> (the previous phase's final checkpoint, weights carried over), or none of them
/// (phase 0 from the run's seed).
/// </summary>
public sealed record GenerationStart(LiveState? Live, int SourceIndex, CheckpointCommitted? Resume, CheckpointRef? TransferFrom)
{
    public string Kind => Live is not null ? "live" : Resume is not null ? "checkpoint" : TransferFrom is not null ? "transfer" : "fresh";
}
