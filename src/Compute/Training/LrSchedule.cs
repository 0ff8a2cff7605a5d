namespace ActorTraining.Compute.Training;

/// <summary>Everything an <see cref="LrSchedule"/> needs to continue exactly where it stopped (checkpoints store it).
/// <c>Step</c>: optimiser steps taken in this phase; <c>Epoch</c>: epochs completed in this phase; <c>Lr</c>: current rate.</summary>
public sealed record LrScheduleState(long Step, int Epoch, double Lr);

/// <summary>Settings of one phase's schedule: peak lr, warmup length and the MultiStepLR decay; with
/// <paramref name="CoolDownSteps"/> &gt; 0, the phase's last steps from <paramref name="CoolDownFrom"/> on fall linearly
/// to 0 (step CoolDownFrom + k runs at (1 − k / CoolDownSteps) of the rate).</summary>
public sealed record LrScheduleSettings(double BaseLr, int WarmupSteps, int DecayStart, int DecayStep, double Gamma,
    long CoolDownFrom = long.MaxValue, long CoolDownSteps = 0)
{
    /// <summary>No per-epoch decay (milestones are below 1000).</summary>
    public const int NoDecay = 1000;

    /// <summary>
    /// The continuous schedule's part in one phase (<c>training.lr-schedule = continuous</c>): the warm-up in the first
    /// phase only, no per-epoch decay, and in the last phase the cool-down over the last <paramref name="coolDown"/> of
    /// the run's training FLOPs — <paramref name="flopsBefore"/> trained before it plus this phase's
    /// <paramref name="phaseSteps"/> steps of <paramref name="flopsPerStep"/> — capped at the whole phase.
    /// </summary>
    public static LrScheduleSettings Continuous(double lr, int warmupSteps, bool firstPhase, bool lastPhase, double coolDown,
        double flopsBefore, long phaseSteps, double flopsPerStep)
    {
        var settings = new LrScheduleSettings(lr, firstPhase ? warmupSteps : 0, NoDecay, 1, 1.0);
        if (!lastPhase || phaseSteps <= 0) return settings;
        double run = flopsBefore + phaseSteps * flopsPerStep;
        long steps = Math.Clamp((long)Math.Round(coolDown * run / flopsPerStep), 1, phaseSteps);
        return settings with { CoolDownFrom = phaseSteps - steps, CoolDownSteps = steps };
    }
}

/// <summary>
/// The AST reference schedule (traintest.py), one instance per phase (a new phase starts a new schedule):
/// warmup — before optimiser step s (0-based), if s ≤ W and s is a multiple of W/20 (50 for the reference W = 1000),
/// lr = s/W · base (so the first W/20 steps run at lr 0, as in the reference); then MultiStepLR stepped at each epoch
/// end: when the completed-epoch count is in range(DecayStart, 1000, DecayStep), lr ×= gamma.
/// WarmupSteps = 0 means no warmup (lr = base from the first step).
/// </summary>
public sealed class LrSchedule
{
    public LrScheduleSettings Settings { get; }
    public LrScheduleState State { get; private set; }

    public LrSchedule(LrScheduleSettings settings, LrScheduleState? state = null)
    {
        Settings = settings;
        State = state ?? new LrScheduleState(0, 0, settings.BaseLr);
    }

    /// <summary>Steps between warmup increments: W/20, as the reference's 50 for 1000.</summary>
    public int WarmupInterval => Math.Max(1, Settings.WarmupSteps / 20);

    /// <summary>Call once before each optimiser step: applies the warmup rule, counts the step, returns the lr to use.</summary>
    public double NextStep()
    {
        var (step, epoch, lr) = State;
        // The reference's rule, plus step = W itself: with W not a multiple of W/20 (W = 45: increments every 2 steps)
        // the last increment would stop below the peak (44/45 of it) for the rest of the phase.
        if (Settings.WarmupSteps > 0 && step <= Settings.WarmupSteps && (step % WarmupInterval == 0 || step == Settings.WarmupSteps))
            lr = (double)step / Settings.WarmupSteps * Settings.BaseLr;
        if (step >= Settings.CoolDownFrom)
            lr = Settings.BaseLr * Math.Max(0, 1 - (double)(step - Settings.CoolDownFrom) / Settings.CoolDownSteps);
        State = new LrScheduleState(step + 1, epoch, lr);
        return lr;
    }

    /// <summary>Puts the schedule back where it was (a step that failed before the optimiser took it).</summary>
    public void Restore(LrScheduleState state) => State = state;

    /// <summary>Call once at each epoch end (MultiStepLR.step()); returns the lr for the next epoch.</summary>
    public double EndEpoch()
    {
        var epoch = State.Epoch + 1;
        var lr = IsMilestone(epoch) ? State.Lr * Settings.Gamma : State.Lr;
        State = State with { Epoch = epoch, Lr = lr };
        return lr;
    }

    bool IsMilestone(int epoch) =>
        epoch >= Settings.DecayStart && epoch < LrScheduleSettings.NoDecay && (epoch - Settings.DecayStart) % Settings.DecayStep == 0;
}
