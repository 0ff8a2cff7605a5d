namespace ActorTraining.Tests.Shared;

/// <summary>
/// Recorded: the keyword corpus of BENCHMARKS (a) (10 words, 400 evaluation clips: chance + 3 standard errors = 0.145),
/// pool-max 4→2→1, 60 epochs, seed 1, the adaptive scheduler without the started gate (2026-12-07, `bench/run-all.sh …
/// --schedules pool-max-4-2-1-adaptive --adaptive-started-gate false --seeds --epochs 60`). Per epoch of each phase:
/// accuracy, mean training loss, evaluation loss; every epoch cost <see cref="Pool4EpochFlops"/> at C = 4 and
/// <see cref="Pool2EpochFlops"/> at C = 2. The rule ended C = 4 after 9 epochs and C = 2 after 8, both at chance.
/// </summary>
public static class RecordedKeywordRun
{
    public static readonly double[] Pool4Accuracy = [0.1, 0.0975, 0.11, 0.09, 0.1425, 0.11, 0.1225, 0.1225, 0.1];
    public static readonly double[] Pool4Loss = [2.3435, 2.319, 2.3249, 2.3156, 2.3084, 2.3019, 2.3072, 2.312, 2.3065];
    public static readonly double[] Pool4EvalLoss = [2.3322, 2.3118, 2.3107, 2.31, 2.2963, 2.3046, 2.2919, 2.3074];
    public static readonly double[] Pool2Accuracy = [0.105, 0.09, 0.145, 0.15, 0.1025, 0.1675, 0.14, 0.22];
    public static readonly double[] Pool2Loss = [2.3077, 2.3005, 2.2975, 2.282, 2.2776, 2.1982, 2.1645, 2.0717];
    public const double Pool4EpochFlops = 1.44e11;
    public const double Pool2EpochFlops = 2.78e11;
    public const double Threshold = 0.145; // 0.1 + 3 √(0.1 · 0.9 / 400)
}
