using Akka.Actor;
using Akka.Event;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Runs one clip's work in a pipeline worker. An exception nobody anticipated (a native error, a bug) fails that
/// clip — logged with its file, skipped and counted like unreadable audio — instead of the worker: a restarted
/// worker would have dropped the message, and the batcher, which keeps clip order, would wait for it forever.
/// </summary>
public static class ClipGuard
{
    public static void Run(WorkItem item, string stage, IActorRef batcher, ILoggingAdapter log, Action work)
    {
        try { work(); }
        catch (Exception ex) when (ex is not Compute.Data.Shards.SourceUnavailableException) // a source away past its timeout fails the pipeline
        {
            // the user reads a sentence; the exception itself is for --verbose (the log at INFO level) and a bug report
            log.Info("{0} failed on {1} (epoch {2}, position {3}): {4}", stage, item.AudioPath, item.Epoch + 1, item.Position, ex);
            batcher.Tell(new SampleFailed(item, $"{stage} failed on an internal error (a bug, not necessarily in the file; --verbose logs it)"));
        }
    }
}
