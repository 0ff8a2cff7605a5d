using ActorTraining.Messages;

namespace ActorTraining.Host.Running;

/// <summary>
/// The live progress line: phase, epoch, samples/s, ETA for the phase, loss. On a terminal one line, led by a bar of the
/// epoch, is rewritten in place; when stdout is redirected (a log, a test) plain lines are printed, at most one every
/// few seconds.
/// </summary>
public sealed class ProgressDisplay(string runName, int batchSize)
{
    readonly bool _interactive = !Console.IsOutputRedirected;
    DateTime _lastPlain = DateTime.MinValue;
    bool _lineOpen;

    public void Show(TrainingProgress p)
    {
        var batchesLeftInEpoch = Math.Max(0, (p.EpochSize - p.Position + batchSize - 1) / batchSize);
        var batchesPerEpoch = (p.EpochSize + batchSize - 1) / batchSize;
        var batchesLeft = batchesLeftInEpoch + (long)Math.Max(0, p.Epochs - p.Epoch - 1) * batchesPerEpoch;
        var eta = p.BatchesPerSecond > 0 ? TimeSpan.FromSeconds(batchesLeft / p.BatchesPerSecond) : TimeSpan.Zero;
        var text = $"[{runName}] phase {p.Phase + 1}/{p.PhaseCount} epoch {p.Epoch + 1}/{p.Epochs} " +
                   $"{p.Position}/{p.EpochSize} clips  step {p.Step}  {p.BatchesPerSecond * batchSize:F0} samples/s  " +
                   $"phase ETA {Eta(eta)}  loss {p.Loss:F4}  grad-norm {p.GradNorm:G3}";
        if (_interactive) text = $"{Bar(p.Position, p.EpochSize)} {text}";
        if (_interactive)
        {
            Console.Write("\r" + text.PadRight(Math.Min(Console.BufferWidth > 0 ? Console.BufferWidth - 1 : 120, 160)));
            _lineOpen = true;
        }
        else if (DateTime.UtcNow - _lastPlain > TimeSpan.FromSeconds(5))
        {
            Console.WriteLine(text);
            _lastPlain = DateTime.UtcNow;
        }
    }

    /// <summary>The epoch's progress as a 20-cell bar.</summary>
    static string Bar(long done, long total)
    {
        int cells = total <= 0 ? 0 : (int)Math.Clamp(20 * done / total, 0, 20);
        return $"[{new string('#', cells)}{new string('.', 20 - cells)}]";
    }

    // hours when a phase takes them (a day-long phase on a cluster), else minutes:seconds
    static string Eta(TimeSpan eta) => eta.TotalHours >= 1 ? $"{(int)eta.TotalHours}:{eta:mm\\:ss}" : $"{eta:mm\\:ss}";

    /// <summary>A line that stays (epoch results, phase changes, warnings).</summary>
    public void Line(string text)
    {
        if (_lineOpen) Console.WriteLine();
        _lineOpen = false;
        Console.WriteLine(text);
    }
}
