namespace ActorTraining.Compute.Runtime;

/// <summary>
/// A background thread that forces gen-0 collections and runs pending finalizers in a tight loop, for as long as this
/// object lives (at most <c>limit</c>). Under it, a native handle whose managed owner is unreachable is freed within
/// microseconds — what makes a use-after-free of TorchSharp temporaries (dotnet/TorchSharp#1434) show at once
/// instead of once in a long run. For the GC-stress test and the soak (bench/soak); never on in a normal run.
/// </summary>
public sealed class GcPressure : IDisposable
{
    readonly Thread _thread;
    volatile bool _stop;

    /// <param name="limit">how long it runs at most</param>
    /// <param name="report">where to say, once a minute, how many collections it forced (the soak's proof it ran)</param>
    public GcPressure(TimeSpan limit, TextWriter? report = null)
    {
        var until = DateTime.UtcNow + limit;
        _thread = new Thread(() =>
        {
            var nextReport = DateTime.UtcNow.AddMinutes(1);
            while (!_stop && DateTime.UtcNow < until)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref _collections);
                if (report is not null && DateTime.UtcNow >= nextReport)
                {
                    report.WriteLine($"gc-pressure: {Collections} forced collections");
                    nextReport = nextReport.AddMinutes(1);
                }
            }
        }) { IsBackground = true, Name = "gc-pressure" };
        _thread.Start();
    }

    long _collections;

    /// <summary>Forced collections so far.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    /// <summary>The environment variable that turns it on in a host process (seconds it runs; undocumented, for the soak).</summary>
    public const string EnvironmentVariable = "ACTORTRAINING_GC_PRESSURE_SECONDS";

    /// <summary>Started when <see cref="EnvironmentVariable"/> holds a positive number of seconds, else null.</summary>
    public static GcPressure? FromEnvironment() =>
        double.TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? new GcPressure(TimeSpan.FromSeconds(s), Console.Error)
            : null;

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
