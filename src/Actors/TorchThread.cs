using System.Collections.Concurrent;
using System.Diagnostics;

namespace ActorTraining.Actors;

/// <summary>
/// One dedicated OS thread that runs all of an actor's TorchSharp work in order. Dispose scopes are thread-static
/// and libtorch state should not hop threads, so the owning actor posts closures here and gets a Task back (which it
/// pipes to itself) — the actor system's threads never block on torch. Measures how long the thread sat waiting for
/// work (a trainer's idle time: it waited for a batch).
/// </summary>
public sealed class TorchThread : IDisposable
{
    readonly BlockingCollection<Action> _work = new();
    readonly Thread _thread;
    long _idleTicks;

    public TorchThread(string name)
    {
        _thread = new Thread(Loop) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>Seconds this thread waited for work since the last <see cref="TakeIdleSeconds"/>.</summary>
    public double TakeIdleSeconds() => (double)Interlocked.Exchange(ref _idleTicks, 0) / Stopwatch.Frequency;

    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(work()); }
            catch (Exception ex) { done.SetException(ex); }
        });
        return done.Task;
    }

    void Loop()
    {
        var waitStart = Stopwatch.GetTimestamp();
        foreach (var item in _work.GetConsumingEnumerable())
        {
            Interlocked.Add(ref _idleTicks, Stopwatch.GetTimestamp() - waitStart);
            item();
            waitStart = Stopwatch.GetTimestamp();
        }
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(30));
    }
}
