using System.Collections.Immutable;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

// Over 350 lines: the run's whole decision logic (Process/Apply of every journal event); split, its invariants would be
// read across files. GenerationRoster holds the membership half.
/// <summary>
/// The phase supervisor's state: everything it knows, rebuilt from its journal. Pure: <see cref="Process"/> turns a
/// command into events, <see cref="Apply"/> folds an event in; the questions a (re)started run asks — what to train,
/// what to evaluate, which checkpoint files may go — are functions of it.
/// </summary>
public sealed record RunState(
    string? ConfigHash,
    ImmutableArray<PhasePlan> Phases,
    int CurrentPhase,
    ImmutableList<int> CompletedPhases,
    ImmutableList<CheckpointCommitted> Checkpoints,
    ImmutableList<EpochCompleted> Epochs,
    bool Completed,
    ImmutableList<TrainingRestarted> Restarts,
    int RestartsInARow,
    RestartBudgetSpent? GaveUp,
    ImmutableList<GenerationFormed> Generations,
    AdaptiveSchedule? Schedule,
    ImmutableArray<int> Budgets,
    ImmutableList<PhaseLengthDecided> Decisions,
    WeightAveraging? Averaging = null,
    WeightsAveraged? Averaged = null,
    AveragedWeightsEvaluated? AverageScore = null,
    string? Model = null,
    ImmutableList<PhaseProbed>? ProbesTaken = null,
    CurriculumStuck? Stuck = null)
{
    /// <summary>The adaptive scheduler's probes of the next resolution, in the order they were measured.</summary>
    public ImmutableList<PhaseProbed> Probes => ProbesTaken ?? ImmutableList<PhaseProbed>.Empty;

    public static readonly RunState Empty = new(null, ImmutableArray<PhasePlan>.Empty, -1, ImmutableList<int>.Empty,
        ImmutableList<CheckpointCommitted>.Empty, ImmutableList<EpochCompleted>.Empty, false,
        ImmutableList<TrainingRestarted>.Empty, 0, null, ImmutableList<GenerationFormed>.Empty, null, ImmutableArray<int>.Empty,
        ImmutableList<PhaseLengthDecided>.Empty);

    // Phases holds each phase's epochs as they stand: the curriculum's when fixed; with the adaptive scheduler the epochs
    // granted so far, Budgets the most each phase may still get.

    public bool Started => ConfigHash is not null;

    /// <summary>
    /// The newest generation number given out: to a group of ranks (<see cref="GenerationFormed"/>) or to a restart
    /// after a fault (<see cref="TrainingRestarted"/>); −1 before any. Numbers only grow, so a checkpoint file or a ring
    /// link of an older generation can never be taken for one of the current.
    /// </summary>
    public int Generation => Math.Max(Generations.LastOrDefault()?.Generation ?? -1, Restarts.LastOrDefault()?.Generation ?? -1);

    public int NextGeneration => Generation + 1;

    /// <summary>States that ranks hold from generations up to this one were made before the last fault: never continued from.</summary>
    public int LiveFloor => Restarts.LastOrDefault()?.Generation ?? -1;

    /// <summary>Events a command causes. Commands: <see cref="StartRun"/>, <see cref="CommitCheckpoint"/>, <see cref="EvaluationDone"/>,
    /// <see cref="WeightsAveraged"/> (the averaging <see cref="AveragingInputs"/> asked for is written), <see cref="PhaseProbed"/>
    /// (the probe <see cref="PendingProbe"/> asked for was measured).</summary>
    /// <exception cref="RunConfigMismatchException">StartRun with a config hash other than the journal's.</exception>
    public IReadOnlyList<ISupervisorEvent> Process(object command) => command switch
    {
        StartRun start => ProcessStart(start),
        CommitCheckpoint commit => ProcessCommit(commit.Checkpoint),
        EvaluationDone done => ProcessEvaluation(done),
        WeightsAveraged averaged => AveragingInputs() is not null && averaged.Averaging == AveragedEpochs && averaged.Phase == Phases.Length - 1
            ? [averaged] : [],
        PhaseProbed probed => PendingProbe() is { } pending && pending.Key == (probed.Phase, probed.Epoch, probed.Purpose)
            ? [probed, .. Apply(probed).Advance()] : [],
        _ => throw new ArgumentException($"RunState does not handle {command.GetType().Name}", nameof(command)),
    };

    public RunState Apply(ISupervisorEvent e) => e switch
    {
        RunStarted s => this with
        {
            ConfigHash = s.ConfigHash, Schedule = s.Schedule, Averaging = s.Averaging, Model = s.Model, Budgets = s.Phases.Select(p => p.Epochs).ToImmutableArray(),
            Phases = s.Phases.Select((p, i) => p with { Epochs = FirstGrant(s.Schedule, i, s.Phases.Count, p.Epochs) }).ToImmutableArray(),
        },
        PhaseLengthDecided d => Decided(d),
        PhaseStarted p => this with { CurrentPhase = p.Index, Phases = Phases.SetItem(p.Index, Phases[p.Index] with { FlopsBefore = TrainedFlopsBefore(p.Index) }) },
        CheckpointCommitted c => this with { Checkpoints = Checkpoints.Add(c) },
        EpochCompleted ep => this with { Epochs = Epochs.Add(ep), RestartsInARow = 0 },
        TrainingRestarted r => this with { Restarts = Restarts.Add(r), RestartsInARow = r.Attempt },
        RestartBudgetSpent g => this with { GaveUp = g },
        RestartBudgetReset => this with { RestartsInARow = 0, GaveUp = null },
        PhaseCompleted pc => this with { CompletedPhases = CompletedPhases.Add(pc.Index) },
        RunCompleted => this with { Completed = true },
        GenerationFormed g => this with { Generations = Generations.Add(g) },
        WeightsAveraged w => this with { Averaged = w },
        AveragedWeightsEvaluated a => this with { AverageScore = a },
        PhaseProbed probed => this with { ProbesTaken = Probes.Add(probed) },
        CurriculumStuck stuck => this with { Stuck = stuck },
        _ => throw new ArgumentException($"unknown event {e.GetType().Name}", nameof(e)),
    };

    public RunState ApplyAll(IEnumerable<ISupervisorEvent> events) => events.Aggregate(this, (s, e) => s.Apply(e));

    /// <summary>
    /// The epochs a phase starts with: all it has when fixed or the last; with the adaptive scheduler the two that train
    /// before its first decision (the decision about epoch k + 2 reads epoch k's score), or min-epochs.
    /// </summary>
    static int FirstGrant(AdaptiveSchedule? schedule, int phase, int phases, int budget) =>
        schedule is null || phase == phases - 1 ? budget : Math.Min(budget, Math.Max(2, schedule.MinEpochs));

    RunState Decided(PhaseLengthDecided d)
    {
        var phases = Phases.SetItem(d.Phase, Phases[d.Phase] with { Epochs = d.PhaseEpochs });
        var budgets = Budgets;
        if (d.EndsPhase && d.Phase + 1 < Phases.Length)
        {
            budgets = budgets.SetItem(d.Phase + 1, d.NextPhaseEpochs);
            phases = phases.SetItem(d.Phase + 1, Phases[d.Phase + 1] with { Epochs = FirstGrant(Schedule, d.Phase + 1, Phases.Length, d.NextPhaseEpochs) });
        }
        return this with { Phases = phases, Budgets = budgets, Decisions = Decisions.Add(d) };
    }

    /// <summary>Whether <paramref name="phase"/>'s length is settled: fixed, the last phase, its budget granted, or ended by a decision.</summary>
    public bool LengthSettled(int phase) => Schedule is null || phase == Phases.Length - 1 || Phases[phase].Epochs >= Budgets[phase]
        || Decisions.Any(d => d.Phase == phase && d.EndsPhase);

    /// <summary>
    /// What the adaptive scheduler does now about the current phase: a <see cref="PhaseLengthDecided"/>, a
    /// <see cref="ProbeRequest"/> it waits for, a <see cref="CurriculumStuck"/>, or null (nothing due). The next epoch
    /// beyond those granted is decided once every epoch up to two before it is scored.
    /// </summary>
    object? Due()
    {
        int p = CurrentPhase;
        if (Schedule is not { } schedule || p < 0 || Completed || Stuck is not null || CompletedPhases.Contains(p) || LengthSettled(p)) return null;
        int next = Phases[p].Epochs, decidedBy = next - 2;
        var epochs = new EpochCompleted[decidedBy + 1];
        for (int k = 0; k <= decidedBy; k++)
            if (Epochs.FirstOrDefault(e => e.Phase == p && e.Epoch == k) is { } epoch) epochs[k] = epoch;
            else return null;
        var scores = epochs.Select(e => Metric(e, schedule.Signal)).ToList();
        double costRatio = schedule.SampleFlops[p] / schedule.SampleFlops[p + 1];
        string? gate = schedule.GateMetric;
        var gateScores = gate is null ? [] : epochs.Select(e => Metric(e, gate)).ToList();
        // weights carried over from a phase that had started: only the score is asked of this one
        bool fromLearned = gate is not null && p > 0 && !StartedGate.AtChance(Epochs.Where(e => e.Phase == p - 1).Select(e => Metric(e, gate)).ToList(), schedule.StartedAt);
        string? notStarted = gate is null ? null : StartedGate.NotStarted(gateScores, epochs.Select(e => Metric(e, "train_loss")).ToList(),
            epochs.Select(e => e.Flops).ToList(), schedule.StartedAt, gate, fromLearned);
        if (schedule.ProbeSteps is { } probeSteps)
            return SlopeDecision(schedule, epochs, scores, notStarted, notStarted is not null && StartedGate.AtChance(gateScores, schedule.StartedAt),
                probeSteps[p], next, decidedBy, costRatio);
        var verdict = PhaseLengthRule.Decide(scores, schedule.HigherIsBetter, next, costRatio,
            new PhaseLengthSettings(schedule.MinEpochs, schedule.Patience, schedule.Window, schedule.ExpectedGain), schedule.Signal);
        if (verdict.EndsPhase && notStarted is not null) verdict = new(false, $"{verdict.Reason} — but the phase has not started, {notStarted}: go on");
        return Verdict(verdict, next, decidedBy, costRatio);
    }

    /// <summary>
    /// The slope rule (<see cref="AdaptiveSchedule.ProbeSteps"/>): a phase that has not started goes on; one still at chance
    /// by its budget's last epoch probes the next resolution and moves on if that learns, else stops the run; a phase that has
    /// started ends by patience, or once a probe finds the next resolution lowering the evaluation loss more per FLOP
    /// than this one (<see cref="SlopeRule"/>; probed when it starts, and once more a window of epochs later).
    /// </summary>
    object SlopeDecision(AdaptiveSchedule schedule, EpochCompleted[] epochs, List<double> scores, string? notStarted, bool atChance, int steps,
        int next, int decidedBy, double costRatio)
    {
        int p = CurrentPhase;
        if (notStarted is not null)
        {
            // at the cap only a phase still at chance asks whether the resolution or the optimisation is stuck; one that
            // scores above chance but is still in its loss's fall trains its budget out
            if (next + 1 < Budgets[p] || !atChance) return Verdict(new(false, $"the phase has not started, {notStarted}: go on"), next, decidedBy, costRatio);
            if (ProbeOf(p, ProbePurpose.Stuck) is not { } stuck) return Request(ProbePurpose.Stuck, decidedBy, steps);
            string probe = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"a probe of the next resolution ({Phases[p + 1].Compression}) went from eval loss {stuck.ZeroShotLoss:0.####} to " +
                $"{stuck.Loss:0.####} in {stuck.Steps} steps");
            if (!Next(stuck).Learns)
                return new CurriculumStuck(p, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"phase {p + 1} ({Phases[p].Compression}) did not start in {next} of its {Budgets[p]} epochs ({notStarted}), " +
                    $"and {probe}: the optimisation is stuck, not the resolution — the run stops rather than spend its budget " +
                    $"(check the labels and the learning rate)"));
            double wasted = epochs.Sum(e => e.Flops);
            return Verdict(new(true, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the phase has not started by its cap ({notStarted}), but {probe}: move on; its " +
                $"{wasted / 1e12:0.###} TFLOPs so far are wasted")), next, decidedBy, costRatio);
        }
        var patience = PhaseLengthRule.Decide(scores, schedule.HigherIsBetter, next, costRatio,
            new PhaseLengthSettings(schedule.MinEpochs, schedule.Patience, schedule.Window, ExpectedGain: 0), schedule.Signal);
        if (patience.EndsPhase || next < schedule.MinEpochs) return Verdict(patience, next, decidedBy, costRatio);
        if (ProbeOf(p, ProbePurpose.Slope) is not { } last) return Request(ProbePurpose.Slope, decidedBy, steps);
        var verdict = SlopeRule.Decide(Here(last), Next(last));
        verdict = verdict with { Reason = $"probe after epoch {last.Epoch + 1}: {verdict.Reason}" };
        bool probedOften = Probes.Count(x => x.Phase == p && x.Purpose == ProbePurpose.Slope) >= SlopeRule.MaxProbesPerPhase;
        if (!verdict.EndsPhase && !probedOften && decidedBy >= last.Epoch + schedule.Window) return Request(ProbePurpose.Slope, decidedBy, steps);
        return Verdict(verdict, next, decidedBy, costRatio);
    }

    PhaseProbed? ProbeOf(int phase, ProbePurpose purpose) => Probes.LastOrDefault(x => x.Phase == phase && x.Purpose == purpose);

    /// <summary>A probe's burst at the next resolution, and (a slope probe's) of the phase itself.</summary>
    static ProbeMeasure Next(PhaseProbed p) => new(p.ZeroShotLoss, p.Loss, p.Steps, p.TrainFlops);

    static ProbeMeasure Here(PhaseProbed p) => new(p.HereStartLoss, p.HereLoss, p.HereSteps, p.HereTrainFlops);

    /// <summary>A probe of <paramref name="steps"/> at the next resolution; a slope probe also continues this phase for
    /// the same FLOPs (its steps scaled by the two phases' FLOPs per sample).</summary>
    ProbeRequest Request(ProbePurpose purpose, int epoch, int steps)
    {
        int p = CurrentPhase;
        var end = EpochEndCheckpoint(p, epoch)!;
        int here = purpose == ProbePurpose.Slope ? (int)Math.Round(steps * Schedule!.SampleFlops[p + 1] / Schedule.SampleFlops[p]) : 0;
        return new ProbeRequest(Phases[p], epoch, purpose, steps, new CheckpointRef(end.Path, end.Sha256), Phases[p + 1], here);
    }

    PhaseLengthDecided Verdict(PhaseLengthVerdict verdict, int next, int decidedBy, double costRatio)
    {
        int p = CurrentPhase;
        if (!verdict.EndsPhase) return new PhaseLengthDecided(p, decidedBy, false, next + 1, Budgets[p + 1], verdict.Reason);
        int unused = Budgets[p] - next;
        int handed = Schedule!.BudgetInFlops ? (int)Math.Floor(unused * costRatio + 1e-9) : unused;
        return new PhaseLengthDecided(p, decidedBy, true, next, Budgets[p + 1] + handed,
            $"{verdict.Reason}; {unused} unused epoch(s) of this phase give the next {handed} more");
    }

    /// <summary>The probe of the next resolution the adaptive scheduler waits for, or null.</summary>
    public ProbeRequest? PendingProbe() => Due() as ProbeRequest;

    /// <summary>The training FLOPs of every epoch of the phases before <paramref name="phase"/>, from their epoch-end commits.</summary>
    double TrainedFlopsBefore(int phase) => Checkpoints.Where(c => c.EpochComplete && c.Phase < phase)
        .GroupBy(c => (c.Phase, c.Epoch)).Sum(g => g.Last().EpochFlops);

    static double Metric(EpochCompleted epoch, string name) => epoch.Metrics.TryGetValue(name, out var v) ? v : double.NaN;

    /// <summary>
    /// What follows from the state as it is: the adaptive decisions due, then the end of the current phase once its
    /// length is settled and its last epoch trained — the next phase starts at once (its evaluation runs beside it);
    /// the last phase completes the run when every epoch end of every phase is scored and, with weight averaging, the
    /// averaged weights are too (they are then the run's final checkpoint).
    /// </summary>
    IReadOnlyList<ISupervisorEvent> Advance()
    {
        var events = new List<ISupervisorEvent>();
        var state = this;
        object? due;
        while ((due = state.Due()) is PhaseLengthDecided decision)
        {
            events.Add(decision);
            state = state.Apply(decision);
        }
        if (due is CurriculumStuck stuck) return [.. events, stuck];
        int p = state.CurrentPhase;
        if (p < 0 || state.Completed || state.CompletedPhases.Contains(p) || !state.LengthSettled(p) || !state.Trained(p)) return events;
        if (p + 1 < state.Phases.Length)
        {
            events.Add(new PhaseCompleted(p));
            events.Add(StartOf(state.Phases[p + 1]));
        }
        else if (state.PendingEvaluations().Count == 0 && (state.Averaging is null || state.AverageScore is not null))
        {
            var final = state.FinalCheckpoint()!;
            events.Add(new PhaseCompleted(p));
            events.Add(new RunCompleted(final.Path, final.Sha256));
        }
        return events;
    }

    IReadOnlyList<ISupervisorEvent> ProcessStart(StartRun start)
    {
        if (start.Phases.Count == 0) throw new ArgumentException("the curriculum has no phase", nameof(start));
        if (ConfigHash is null)
        {
            var first = start.Phases[0];
            return [new RunStarted(start.ConfigHash, start.Phases, start.Schedule, start.Averaging, start.Model), StartOf(first)];
        }
        if (ConfigHash != start.ConfigHash) throw new RunConfigMismatchException(ConfigHash, start.ConfigHash);
        // A person (or a scheduler) started `train` again: the restarts counted by the process before do not count here.
        IReadOnlyList<ISupervisorEvent> reset = RestartsInARow > 0 || GaveUp is not null ? [new RestartBudgetReset()] : [];
        return [.. reset, .. ApplyAll(reset).Advance()]; // anything a crash kept from following its cause
    }

    /// <summary>
    /// A fault: restart from the last committed checkpoint while fewer than <paramref name="maxRestarts"/> restarts
    /// came in a row, else give up; give up at once when a step goes non-finite again at the step the last restart was
    /// for (a deterministic divergence: the restart replays it). Nothing once the run is completed or has given up.
    /// </summary>
    public IReadOnlyList<ISupervisorEvent> ProcessFault(TrainingFaulted fault, int maxRestarts)
    {
        if (!Started || Completed || GaveUp is not null) return [];
        if (fault.NonFinite is { } at && Restarts.LastOrDefault()?.NonFinite is { } before && at.SameStepAs(before))
            return [new RestartBudgetSpent(fault.Component, $"{fault.Cause} — again after a restart from the last committed checkpoint, so the " +
                $"run diverges there deterministically; try a lower lr for phase {at.Phase + 1} or set training.clip-grad-norm (e.g. 1.0)", RestartsInARow)];
        return RestartsInARow < maxRestarts
            ? [new TrainingRestarted(RestartsInARow + 1, NextGeneration, fault.Component, fault.Cause, fault.NonFinite)]
            : [new RestartBudgetSpent(fault.Component, fault.Cause, RestartsInARow)];
    }

    IReadOnlyList<ISupervisorEvent> ProcessCommit(CheckpointCommitted c)
    {
        // Only the phase being trained commits; a late message from an earlier phase, or a repeat, changes nothing.
        if (Completed || c.Phase != CurrentPhase || CompletedPhases.Contains(c.Phase)) return [];
        var last = LastCheckpoint(c.Phase);
        if (last is not null && Progress(c).CompareTo(Progress(last)) <= 0) return [];
        // The phase's last epoch trained (and its length settled): the next phase starts now. The epoch's evaluation runs
        // beside the next phase's training rather than holding the ranks at the boundary (the transfer reads this
        // checkpoint, not a score).
        return [c, .. Apply(c).Advance()];
    }

    IReadOnlyList<ISupervisorEvent> ProcessEvaluation(EvaluationDone done)
    {
        if (done.Epoch == EvaluateCheckpoint.AveragedWeights)
        {
            if (Completed || Averaged is not { } averaged || AverageScore is not null || done.Phase != averaged.Phase) return [];
            var scored = new AveragedWeightsEvaluated(done.Phase, averaged.Averaging, done.Metrics);
            return [scored, .. Apply(scored).Advance()];
        }
        if (Completed || Epochs.Any(e => e.Phase == done.Phase && e.Epoch == done.Epoch)) return [];
        var end = EpochEndCheckpoint(done.Phase, done.Epoch);
        if (end is null) return [];
        var metrics = new Dictionary<string, double>(done.Metrics)
        {
            ["train_loss"] = end.EpochSamples > 0 ? end.EpochLossSum / end.EpochSamples : double.NaN,
        };
        if (end.EpochGradNormMax > 0) metrics["grad_norm_max"] = end.EpochGradNormMax; // (journals from before it have none)
        var events = new List<ISupervisorEvent>
        {
            new EpochCompleted(done.Phase, done.Epoch, metrics, end.EpochFlops, end.EpochWallSeconds,
                end.EpochIdleSeconds, end.EpochSamples, end.EpochSkipped),
        };
        // (a journal written before phases moved on at their last commit may also have a phase waiting for this score)
        events.AddRange(ApplyAll(events).Advance());
        return events;
    }

    /// <summary>Whether the last epoch of <paramref name="phase"/> is trained (its epoch-end checkpoint committed).</summary>
    bool Trained(int phase) => EpochEndCheckpoint(phase, Phases[phase].Epochs - 1) is not null;

    // How far into a phase a checkpoint is; the epoch-end one follows a mid-epoch one taken after the same last step.
    static (int, long, long, int) Progress(CheckpointCommitted c) => (c.Epoch, c.DataPosition, c.Step, c.EpochComplete ? 1 : 0);

    static PhaseStarted StartOf(PhasePlan p) => new(p.Index, p.Compression, p.InputFrames);

    public CheckpointCommitted? LastCheckpoint(int phase) => Checkpoints.LastOrDefault(c => c.Phase == phase);

    /// <summary>Optimiser steps of the phases before <paramref name="phase"/> (each counts its own from 0): where the phase's
    /// steps begin on the run's step axis.</summary>
    public long StepsBefore(int phase) => Enumerable.Range(0, phase).Sum(p => LastCheckpoint(p)?.Step ?? 0);

    public CheckpointCommitted? LastCheckpoint() => Checkpoints.LastOrDefault();

    /// <summary>The run's result as it stands: the weight average once scored, else the newest committed checkpoint.</summary>
    public CheckpointRef? FinalCheckpoint() => AverageScore is not null && Averaged is { } averaged ? new CheckpointRef(averaged.Path, averaged.Sha256)
        : LastCheckpoint() is { } last ? new CheckpointRef(last.Path, last.Sha256) : null;

    CheckpointCommitted? EpochEndCheckpoint(int phase, int epoch) =>
        Checkpoints.LastOrDefault(c => c.Phase == phase && c.Epoch == epoch && c.EpochComplete);

    /// <summary>
    /// What the trainer must do now, or null when it has nothing to train (run done, or the last phase is trained
    /// and only evaluations are outstanding). Resume from the phase's last committed checkpoint;
    /// with none, carry the previous phase's final weights over (or initialise, for phase 0).
    /// </summary>
    public TrainPhase? TrainOrder()
    {
        if (!Started || Completed || CurrentPhase < 0) return null;
        var plan = Phases[CurrentPhase];
        var last = LastCheckpoint(CurrentPhase);
        if (last is not null)
            return last.EpochComplete && last.Epoch >= plan.Epochs - 1 ? null : new TrainPhase(plan, last, null, NextGeneration);
        var previous = CurrentPhase > 0 ? LastCheckpoint(CurrentPhase - 1) : null;
        return new TrainPhase(plan, null, previous is null ? null : new CheckpointRef(previous.Path, previous.Sha256), NextGeneration);
    }

    /// <summary>
    /// Whether training may continue from <paramref name="live"/>, a state a rank holds in memory, instead of from the
    /// journal: it is of this run's current phase, made after the last fault, in the epoch the journal is in (every
    /// earlier epoch's end committed, so none goes unevaluated), not before the last commit, and not at the epoch's
    /// very end (<paramref name="epochSize"/>; that end is committed from the journal's side, never twice).
    /// </summary>
    public bool CanContinueFrom(LiveState live, int runIndex, long epochSize)
    {
        if (TrainOrder() is null || live.RunIndex != runIndex || live.Phase != CurrentPhase || live.Generation <= LiveFloor) return false;
        if (live.Position >= epochSize) return false;
        var last = LastCheckpoint(CurrentPhase);
        if (last is null) return live.Epoch == 0;
        if (last.EpochComplete) return live.Epoch == last.Epoch + 1 && live.Step >= last.Step;
        return live.Epoch == last.Epoch && live.Position >= last.DataPosition && live.Step >= last.Step;
    }

    /// <summary>
    /// The next generation of <paramref name="ranks"/> (in ring order, each with the state it holds): from the most
    /// advanced state that <see cref="CanContinueFrom"/> allows — so survivors of a lost node go on where they are — or,
    /// with none (or <paramref name="fromJournal"/>, after a fault), from <see cref="TrainOrder"/>. Null when there is
    /// nothing to train.
    /// </summary>
    public (GenerationFormed Event, GenerationStart Start)? FormGeneration(IReadOnlyList<(RankAddress Address, LiveState? Live)> ranks,
        int runIndex, long epochSize, bool fromJournal)
    {
        if (ranks.Count == 0 || TrainOrder() is not { } order) return null;
        var members = ranks.Select(r => r.Address).ToList();
        var best = fromJournal ? null : ranks.Select((r, i) => (r.Live, Index: i))
            .Where(c => c.Live is not null && CanContinueFrom(c.Live, runIndex, epochSize))
            .OrderByDescending(c => (c.Live!.Epoch, c.Live.Position, c.Live.Step)).ThenBy(c => c.Index)
            .Select(c => ((LiveState, int)?)(c.Live!, c.Index)).FirstOrDefault();
        if (best is var (live, source))
            return (new GenerationFormed(NextGeneration, members, CurrentPhase, live.Epoch, live.Position, live.Step, "live"),
                new GenerationStart(live, source, null, null));
        var start = new GenerationStart(null, 0, order.Resume, order.TransferFrom);
        var (epoch, position, step) = order.Resume is { } r
            ? (r.EpochComplete ? r.Epoch + 1 : r.Epoch, r.EpochComplete ? 0 : r.DataPosition, r.Step)
            : (0, 0L, 0L);
        return (new GenerationFormed(NextGeneration, members, CurrentPhase, epoch, position, step, start.Kind), start);
    }

    /// <summary>Epoch-end checkpoints whose evaluation has not been recorded (evaluation was running at a crash), and the
    /// averaged weights once written and until scored.</summary>
    public IReadOnlyList<EvaluateCheckpoint> PendingEvaluations()
    {
        var pending = Checkpoints.Where(c => c.EpochComplete && !Epochs.Any(e => e.Phase == c.Phase && e.Epoch == c.Epoch))
            .GroupBy(c => (c.Phase, c.Epoch)).Select(g => g.Last())
            .Select(c => new EvaluateCheckpoint(new CheckpointRef(c.Path, c.Sha256), Phases[c.Phase], c.Epoch))
            .ToList();
        if (Averaged is { } averaged && AverageScore is null && !Completed)
            pending.Add(new EvaluateCheckpoint(new CheckpointRef(averaged.Path, averaged.Sha256), Phases[averaged.Phase], EvaluateCheckpoint.AveragedWeights));
        return pending;
    }

    /// <summary>The last phase's epochs weight averaging reads (0-based), or null without it. Final once the last phase
    /// trains: its length is settled by then.</summary>
    public WeightAveraging? AveragedEpochs => Averaging?.In(Phases[^1].Epochs);

    /// <summary>
    /// The epoch-end checkpoints to average now, in epoch order, or null: weight averaging is configured, the last phase
    /// is trained (every epoch end of the range committed) and its average not written yet.
    /// </summary>
    public IReadOnlyList<CheckpointCommitted>? AveragingInputs()
    {
        int last = Phases.Length - 1;
        if (AveragedEpochs is not { } range || Averaged is not null || Completed || CurrentPhase != last || !LengthSettled(last) || !Trained(last)) return null;
        return Enumerable.Range(range.FirstEpoch, range.Count).Select(k => EpochEndCheckpoint(last, k)
            ?? throw new InvalidOperationException($"the epoch end of phase {last + 1} epoch {k + 1} is not in the journal")).ToList();
    }

    /// <summary>
    /// Committed checkpoint files still needed: the newest one, each finished phase's final one, epoch ends waiting for
    /// evaluation, and the epoch ends weight averaging will read until it is written. Every other committed file may be
    /// deleted.
    /// </summary>
    public IReadOnlySet<string> CheckpointsToKeep()
    {
        var keep = new HashSet<string>();
        if (AveragedEpochs is { } range && Averaged is null && CurrentPhase == Phases.Length - 1)
            foreach (var c in Checkpoints.Where(c => c.Phase == Phases.Length - 1 && c.EpochComplete && c.Epoch >= range.FirstEpoch && c.Epoch <= range.LastEpoch))
                keep.Add(c.Path);
        if (LastCheckpoint() is { } newest) keep.Add(newest.Path);
        foreach (var phase in Checkpoints.Select(c => c.Phase).Distinct())
            if (phase != CurrentPhase || CompletedPhases.Contains(phase)) keep.Add(LastCheckpoint(phase)!.Path);
        foreach (var pending in PendingEvaluations().Where(p => p.Epoch != EvaluateCheckpoint.AveragedWeights)) keep.Add(pending.Checkpoint.Path);
        if (PendingProbe() is { } probe) keep.Add(probe.Checkpoint.Path);
        return keep;
    }

    public IReadOnlyList<string> CheckpointsToDelete()
    {
        var keep = CheckpointsToKeep();
        return Checkpoints.Select(c => c.Path).Distinct().Where(p => !keep.Contains(p)).ToList();
    }
}
