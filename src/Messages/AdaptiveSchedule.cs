namespace ActorTraining.Messages;

/// <summary>
/// The adaptive phase scheduler's settings as the supervisor applies them (<c>training.phase-scheduler = adaptive</c>):
/// each phase but the last trains at least <paramref name="MinEpochs"/> and at most its curriculum epochs (its budget);
/// after each evaluated epoch the rule (<c>PhaseLengthRule</c>) decides whether the phase gets one more epoch, judging
/// <paramref name="Signal"/> (a metric key of <see cref="EpochCompleted"/>; <paramref name="HigherIsBetter"/> false for
/// a loss) with <paramref name="Patience"/>, <paramref name="Window"/> and <paramref name="ExpectedGain"/>. An epoch a
/// phase leaves unused goes to the next phase: as epochs (<paramref name="BudgetInFlops"/> false) or as the FLOPs it
/// would have cost, converted with the phases' training FLOPs per sample (<paramref name="SampleFlops"/>, one per phase).
/// </summary>
public sealed record AdaptiveSchedule(string Signal, bool HigherIsBetter, bool BudgetInFlops, int MinEpochs, int Patience,
    int Window, double ExpectedGain, IReadOnlyList<double> SampleFlops);
