using System.Net.Sockets;

namespace ActorTraining.Actors;

/// <summary>
/// Whether a failure to read or write the run journal is its database being away — a restart, a fail-over, the network,
/// a circuit breaker open after such failures, a busy or full SQLite file — which waiting cures; or something a person
/// must look at (an event that cannot be read, a table of another shape).
/// </summary>
public static class JournalFailure
{
    public static bool IsOutage(Exception cause) => Chain(cause).Any(IsOutageItself);

    /// <summary>
    /// The sequence number written is taken: another writer of the same persistence id wrote first. The journal's key
    /// (persistence id, sequence number) makes this the fence between two supervisors of one run.
    /// </summary>
    public static bool IsOvertaken(Exception cause) => Chain(cause).Any(e => e switch
    {
        Npgsql.PostgresException pg => pg.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 1555 or 2067, // primary key, unique
        _ => false,
    });

    /// <summary>What a supervisor that could not <paramref name="verb"/> its journal tells its coordinator: overtaken by
    /// another supervisor (read it again), an outage (start me again later) or a failed run.</summary>
    public static object Report(Exception cause, string verb) =>
        IsOvertaken(cause) ? new Messages.JournalOvertaken(Describe(cause))
        : IsOutage(cause) ? new Messages.JournalOutage(Describe(cause))
        : new Messages.RunFailed($"could not {verb} the run journal: {Describe(cause)}");

    /// <summary>
    /// One line: the message of the first failure in the chain that says the database is away ("Failed to connect to
    /// 127.0.0.1:5432", "Exception while reading from stream"), else the innermost that says anything — not the
    /// wrappers' ("NpgsqlTransaction" of a disposed transaction). Never a connection string: the drivers do not put one in.
    /// </summary>
    public static string Describe(Exception cause)
    {
        var chain = Chain(cause).ToList();
        var said = chain.FirstOrDefault(IsOutageItself) ?? chain.LastOrDefault(e => e.Message.Length > 0) ?? cause;
        return said.Message.Split('\n')[0].Trim();
    }

    static bool IsOutageItself(Exception e) => e switch
    {
        Npgsql.NpgsqlException or SocketException or TimeoutException or IOException or Akka.Pattern.OpenCircuitException => true,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6 or 10 or 13 or 14, // busy, locked, I/O, full, cannot open
        _ => false,
    };

    /// <summary>The failure and its causes, outermost first (an aggregate's inner failures in turn).</summary>
    static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
                yield break;
            }
        }
    }
}
