using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace ActorTraining.Host.Running;

/// <summary>
/// The actor systems' logger in the CLI: one line per event on stdout, `[LEVEL] message` (`[LEVEL hh:mm:ss.fff]` with --verbose). The exception an event
/// carries (Akka's own logger prints its type, message and stack trace) is shown only with --verbose
/// (<see cref="Options"/>): a user reads what happened in words, a bug report gets the details.
/// </summary>
public sealed class CliLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>--verbose: times on every line, and the exceptions' details.</summary>
    public sealed class Options(bool verbose) : Akka.Actor.Setup.Setup
    {
        public bool Verbose { get; } = verbose;
    }

    public CliLogger()
    {
        bool verbose = Context.System.Settings.Setup.Get<Options>().Select(o => o.Verbose).GetOrElse(false);
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            var message = CliErrors.OneLine(e.Message?.ToString() ?? "");
            // with --verbose the time too: an operator reads what a failover took from the log
            var level = e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant();
            Console.WriteLine(verbose ? $"[{level} {e.Timestamp.ToLocalTime():HH:mm:ss.fff}] {message}" : $"[{level}] {message}");
            if (verbose && e.Cause is { } cause) Console.WriteLine(cause);
        });
    }
}
