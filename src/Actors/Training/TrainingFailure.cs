using ActorTraining.Compute.Checkpoints;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// How a failure of training is told, and whether a restart could cure it. Permanent: what a person must fix — a full
/// disk, a committed checkpoint that fails its integrity check, a corpus with no readable audio; restarting from the
/// same checkpoint would meet the same failure. Everything else (a libtorch error, a bug, a stall) is a fault the
/// supervisor restarts from the last committed checkpoint.
/// </summary>
public static class TrainingFailure
{
    const int DiskFull = 28;    // ENOSPC
    const int DiskQuota = 122;  // EDQUOT

    public static string Describe(Exception cause) => Unwrap(cause) switch
    {
        IOException io when IsDiskFull(io) =>
            $"the disk is full while writing a checkpoint ({io.Message}); the last committed checkpoint is intact — free space and rerun the same command to resume",
        CheckpointCorruptException corrupt => $"checkpoint failed its integrity check: {corrupt.Message}",
        var e => e.Message.Split('\n')[0].Trim(),
    };

    public static bool IsPermanent(Exception cause) => Unwrap(cause) is CheckpointCorruptException or InvalidDataException or Compute.Training.ConfigException
        || Unwrap(cause) is IOException io && IsDiskFull(io);

    /// <summary>What a failure in <paramref name="component"/> tells the supervisor: <see cref="RunFailed"/> when a person
    /// must act, else a <see cref="TrainingFaulted"/> to restart from; the sentence starts with <paramref name="context"/>.</summary>
    public static IControlMessage Report(string component, Exception cause, string context = "")
    {
        var reason = context + Describe(cause);
        return IsPermanent(cause) ? new RunFailed(reason) : new TrainingFaulted(component, reason, NonFinite: NonFiniteOf(cause));
    }

    /// <summary>Where a step went non-finite, when that is the failure.</summary>
    static NonFiniteStep? NonFiniteOf(Exception cause) => Unwrap(cause) is NonFiniteStepFailure failure ? failure.Step : null;

    /// <summary>
    /// The failure inside task and actor-creation wrappers. Of several ranks failing together, the one that did not merely see its ring
    /// break says what happened (the others failed because it closed its end).
    /// </summary>
    public static Exception Unwrap(Exception cause) => cause switch
    {
        AggregateException { InnerExceptions.Count: > 0 } aggregate =>
            Unwrap(aggregate.InnerExceptions.FirstOrDefault(e => Unwrap(e) is not Compute.Distributed.RingBrokenException) ?? aggregate.InnerExceptions[0]),
        // a stage that could not start says why (Akka wraps its constructor's exception twice)
        Akka.Actor.ActorInitializationException or TypeLoadException or System.Reflection.TargetInvocationException when cause.InnerException is { } inner => Unwrap(inner),
        _ => cause,
    };

    static bool IsDiskFull(IOException io) =>
        (io.HResult & 0xFFFF) is DiskFull or DiskQuota || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
}
