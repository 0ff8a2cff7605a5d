using System.Collections.Concurrent;
using System.Diagnostics;
using ActorTraining.Compute.Runtime;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// One dedicated OS thread that runs all of an actor's TorchSharp work in order. Dispose scopes are thread-static
/// and libtorch state should not hop threads, so the owning actor posts closures here and gets a Task back (which it
/// pipes to itself) — the actor system's threads never block on torch. Measures how long the thread sat waiting for
/// work (a trainer's idle time: it waited for a batch). When its actor stops, the thread is <see cref="Abandoned"/>:
/// work not yet started is dropped, and work in progress can ask (a trainer must not write a checkpoint for a
/// generation that was replaced); a thread stuck in a native call is left behind rather than waited for.
/// </summary>
public sealed class TorchThread : IDisposable
{
    readonly BlockingCollection<Action> _work = new();
    readonly Thread _thread;
    long _idleTicks;
    volatile bool _abandoned;
    readonly bool _lowPriority;

    public string Name { get; }

    /// <param name="lowPriority">run at the lowest CPU priority (<see cref="BackgroundPriority"/>): work that must not
    /// slow the trainer down on shared cores, such as evaluation</param>
    public TorchThread(string name, bool lowPriority = false)
    {
        Name = name;
        _lowPriority = lowPriority;
        _thread = new Thread(Loop) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>True once the owner stopped: nothing this thread still does may have effects outside it.</summary>
    public bool Abandoned => _abandoned;

    /// <summary>Seconds this thread waited for work since the last <see cref="TakeIdleSeconds"/>.</summary>
    public double TakeIdleSeconds() => (double)Interlocked.Exchange(ref _idleTicks, 0) / Stopwatch.Frequency;

    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                if (_abandoned) { done.SetCanceled(); return; }
                try { done.SetResult(work()); }
                catch (Exception ex) { done.SetException(ex); }
            });
        }
        catch (InvalidOperationException) { done.SetCanceled(); } // disposed: the owner is gone
        return done.Task;
    }

    void Loop()
    {
        if (_lowPriority) BackgroundPriority.LowerCurrentThread(); // before any torch call starts libgomp's workers
        var waitStart = Stopwatch.GetTimestamp();
        foreach (var item in _work.GetConsumingEnumerable())
        {
            Interlocked.Add(ref _idleTicks, Stopwatch.GetTimestamp() - waitStart);
            item();
            waitStart = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Runs <paramref name="last"/> (releasing native memory) after the work in progress, then lets the thread end.</summary>
    public void Abandon(Action last)
    {
        try { _work.Add(last); } catch (InvalidOperationException) { }
        _abandoned = true;
        _work.CompleteAdding();
    }

    public void Dispose()
    {
        _abandoned = true;
        _work.CompleteAdding();
        // a short wait for orderly work; a thread stuck in native code is a background thread and is left behind
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(2));
    }
}
