using System.Diagnostics;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Actors;

// Over 350 lines: one replica's whole life on its torch thread (start, steps, commits, evaluation, state transfer),
// which shares one dispose discipline.
/// <summary>
/// A rank's torch state for one phase — model, optimiser, LR schedule, the epoch's running totals — and its place in
/// the current generation (<see cref="RankRole"/>: index, world, its end of the ring). Lives on the rank's
/// <see cref="TorchThread"/> only; every method is called there and returns plain values the actor can message about.
/// One dispose scope per batch. It outlives a generation: when members are lost or join, the survivors keep it and
/// <see cref="Rejoin"/> the next ring, so a node loss costs at most the step in flight, not a reload.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    public sealed record Ready(int Epoch, long Position, long Step);
    /// <summary>A step taken; at a checkpoint, <paramref name="ParameterHash"/> lets the supervisor compare the replicas.</summary>
    public sealed record StepDone(long Step, double Loss, long Position, double Lr, CheckpointCommitted? Checkpoint, bool Paused, string? ParameterHash,
        double GradNorm);
    /// <summary>The epoch's end; <paramref name="Checkpoint"/> is member 0's (null on the others).</summary>
    public sealed record EpochDone(CheckpointCommitted? Checkpoint, bool PhaseDone, long Step, string? ParameterHash);

    readonly RunSettings _settings;
    readonly TorchThread _thread;
    readonly PhasePlan _phase;
    readonly AudioModel _model;
    readonly AdamOptimizer _optimizer;
    readonly LrSchedule _schedule;
    readonly double _flopsPerSample;
    readonly LossKind _loss;
    int _generation;
    RankRole _role;
    GradientExchange _exchange;
    int _epoch;
    long _position;
    long _step;
    double _wallBefore, _idleBefore, _idle, _lossSum, _flops, _gradNormMax;
    long _samples;
    double _lastLr;
    int _skipped;
    int _phaseEpochs; // the phase's epochs as all members agreed at the last step (the adaptive scheduler may grant more)
    Stopwatch _epochClock = new();

    TrainingSession(RunSettings settings, TorchThread thread, PhasePlan phase, AudioModel model, AdamOptimizer optimizer,
        LrSchedule schedule, int generation, RankRole role)
    {
        _generation = generation;
        _role = role;
        _exchange = new GradientExchange(model, role.Ring);
        _settings = settings;
        _thread = thread;
        _phase = phase;
        _phaseEpochs = phase.Epochs;
        _model = model;
        _optimizer = optimizer;
        _schedule = schedule;
        _lastLr = schedule.State.Lr;
        var (fwd, bwd) = FlopCounter.PerSample(model.Geometry);
        _flopsPerSample = fwd + bwd;
        _loss = settings.Config.Training.LossKind;
    }

    public int Phase => _phase.Index;

    /// <summary>Where a fresh first phase took its weights from (model.init and what was not taken over); null otherwise.</summary>
    public string? Origin { get; private init; }

    /// <summary>A single rank that trains alone (no ring): the trainer of the in-process tests and benches.</summary>
    public static (TrainingSession Session, Ready Ready) Begin(RunSettings settings, TorchThread thread, TrainPhase order) =>
        Begin(settings, thread, order.Phase, new GenerationStart(null, 0, order.Resume, order.TransferFrom), order.Generation, RankRole.Single);

    /// <summary>
    /// Builds the phase's model from a checkpoint start: resumed from the phase's own committed checkpoint, carried
    /// over from the previous phase's final one, or initialised from the run's seed. Every member builds the same
    /// replica (the generator is process-wide and gated, so ranks of one process begin one after another).
    /// </summary>
    public static (TrainingSession Session, Ready Ready) Begin(RunSettings settings, TorchThread thread, PhasePlan phase, GenerationStart start,
        int generation, RankRole role)
    {
        var config = settings.PhaseModel(phase);
        // models are drawn on the CPU (one generator, the same weights for every device) and then placed on the rank's device
        var device = settings.RankDevice;
        if (start.Resume is { } resume)
        {
            var (session, _) = Load(settings, thread, phase, resume.Path, resume.Sha256, generation, role);
            session._step = resume.Step;
            if (resume.EpochComplete) session.StartEpoch(resume.Epoch + 1, 0);
            else
            {
                session.StartEpoch(resume.Epoch, resume.DataPosition);
                session.Adopt(new EpochTotals(resume.EpochWallSeconds, resume.EpochIdleSeconds, resume.EpochLossSum, resume.EpochSamples,
                    resume.EpochFlops, resume.EpochSkipped, resume.EpochGradNormMax));
            }
            return (session, session.Position);
        }
        AudioModel model;
        string? origin = null;
        if (start.TransferFrom is { } from)
        {
            var previous = settings.Plan()[phase.Index - 1];
            using var source = device.Place(TorchRng.Preserving(() => AudioModel.Create(settings.PhaseModel(previous))));
            CommittedCheckpoint.Load(from.Path, from.Sha256, source, null);
            // Seeded, not preserved: a resumed run starts a later phase in a fresh process whose generator was never
            // seeded, and the state every checkpoint of this phase stores must not depend on that.
            model = device.Place(TorchRng.Seeded(SampleSeed.ForPhaseStart(settings.Config.Training.Seed, phase.Index),
                () => PhaseTransfer.Transfer(source, config)));
        }
        else if (settings.Config.Model.Init is { } init)
        {
            // Phase 0 starts from pretrained weights (the head from the run's seed when theirs does not fit)
            IReadOnlyList<string> notes = [];
            model = device.Place(TorchRng.Seeded(settings.Config.Training.Seed, () => init.Kind == ModelInitKind.Htsat
                ? HtsatStart.Build(settings.FineModel.Htsat!, config.Htsat!, init, out notes)
                : (AudioModel)PretrainedStart.Build(settings.FineModel.AstOnly("model.init"), config.AstOnly("model.init"), init, out notes)));
            origin = $"{init}{(notes.Count > 0 ? "; " + string.Join("; ", notes) : "")}";
        }
        else
        {
            // Phase 0 starts from weights drawn from the run's seed, the same on every run.
            model = device.Place(TorchRng.Seeded(settings.Config.Training.Seed, () => AudioModel.Create(config)));
        }
        var fresh = new TrainingSession(settings, thread, phase, model,
            TrainingStep.CreateOptimizer(model, phase.Lr, settings.Config.Training.AdamSettings), new LrSchedule(ScheduleOf(settings, phase)),
            generation, role) { Origin = origin };
        fresh.StartEpoch(0, 0);
        return (fresh, fresh.Position);
    }

    /// <summary>
    /// Builds the phase's model from another rank's state, fetched into <paramref name="stateFile"/> (a checkpoint
    /// stream, verified by its own SHA-256): weights, optimiser, schedule and RNG as that rank holds them, and the
    /// epoch's totals from <paramref name="live"/>.
    /// </summary>
    public static (TrainingSession Session, Ready Ready) BeginFromState(RunSettings settings, TorchThread thread, PhasePlan phase, string stateFile,
        LiveState live, int generation, RankRole role)
    {
        var (session, info) = Load(settings, thread, phase, stateFile, null, generation, role);
        if (info.Step != live.Step || info.Epoch != live.Epoch || info.DataPosition != live.Position)
            throw new InvalidOperationException($"the state fetched is at epoch {info.Epoch}, position {info.DataPosition}, step {info.Step}; " +
                $"its rank reported epoch {live.Epoch}, position {live.Position}, step {live.Step}");
        session._step = live.Step;
        session.StartEpoch(live.Epoch, live.Position);
        session.Adopt(live.Totals);
        var hash = session.ParameterHash();
        if (hash != live.ParameterHash)
            throw new InvalidOperationException($"the state fetched has parameter hash {hash[..12]}, its rank reported {live.ParameterHash[..12]}");
        return (session, session.Position);
    }

    static (TrainingSession, TrainingCheckpointInfo) Load(RunSettings settings, TorchThread thread, PhasePlan phase, string path, string? sha256,
        int generation, RankRole role)
    {
        var model = settings.RankDevice.Place(TorchRng.Preserving(() => AudioModel.Create(settings.PhaseModel(phase))));
        var optimizer = TrainingStep.CreateOptimizer(model, phase.Lr, settings.Config.Training.AdamSettings);
        var info = CommittedCheckpoint.Load(path, sha256, model, optimizer);
        TorchRng.Restore(info.TorchRngState);
        var session = new TrainingSession(settings, thread, phase, model, optimizer,
            new LrSchedule(ScheduleOf(settings, phase), CommittedCheckpoint.Decode(info.LrScheduleState)), generation, role);
        return (session, info);
    }

    /// <summary>The phase's learning-rate schedule (per phase, or its part of the run's continuous one).</summary>
    internal static LrScheduleSettings ScheduleOf(RunSettings settings, PhasePlan phase)
    {
        var training = settings.Config.Training;
        if (training.ContinuousLr is not { } continuous)
            return new(phase.Lr, phase.WarmupSteps, training.LrDecayStart, training.LrDecayStep, training.LrDecayGamma);
        long samples = settings.TrainEntries.Count, stepsPerEpoch = (samples + training.BatchSize - 1) / training.BatchSize;
        var (fwd, bwd) = FlopCounter.PerSample(settings.PhaseModel(phase));
        return LrScheduleSettings.Continuous(phase.Lr, phase.WarmupSteps, phase.Index == 0, phase.Index == settings.Plan().Count - 1,
            continuous.CoolDown, phase.FlopsBefore, phase.Epochs * stepsPerEpoch, (fwd + bwd) * samples / stepsPerEpoch);
    }

    Ready Position => new(_epoch, _position, _step);

    /// <summary>Keeps this state for the next generation: its index, world and ring (the old ring is the caller's to close),
    /// and the phase's epochs as the generation was formed with.</summary>
    public Ready Rejoin(int generation, RankRole role, int phaseEpochs)
    {
        _phaseEpochs = phaseEpochs;
        _exchange.Dispose();
        _exchange = new GradientExchange(_model, role.Ring);
        _generation = generation;
        _role = role;
        return Position;
    }

    void StartEpoch(int epoch, long position)
    {
        _epoch = epoch;
        _position = position;
        _wallBefore = _idleBefore = _idle = _lossSum = _flops = _gradNormMax = 0;
        _samples = 0;
        _skipped = 0;
        _thread.TakeIdleSeconds();
        _epochClock = Stopwatch.StartNew();
    }

    void Adopt(EpochTotals totals)
    {
        (_wallBefore, _idleBefore, _lossSum, _samples, _flops, _skipped, _gradNormMax) =
            (totals.WallSeconds, totals.IdleSeconds, totals.LossSum, totals.Samples, totals.Flops, totals.Skipped, totals.GradNormMax);
        _idle = 0;
        _thread.TakeIdleSeconds();
        _epochClock = Stopwatch.StartNew();
    }

    EpochTotals Totals => new(_wallBefore + _epochClock.Elapsed.TotalSeconds, _idleBefore + _idle, _lossSum, _samples, _flops, _skipped, _gradNormMax);

    /// <summary>
    /// One step on this rank's part of a global batch: the ring sums the gradients and totals of all members, then
    /// every replica takes the same optimiser step. <paramref name="pause"/> asks every member to stop after this
    /// step (<see cref="StepDone.Paused"/> says whether any member asked). <paramref name="phaseEpochs"/>: the phase's
    /// epochs as this rank was told; the members agree on one value in the same all-reduce, and the epoch's end follows
    /// it. A failure — the ring broke, or the step went non-finite (<see cref="NonFiniteStepFailure"/>, on every member
    /// alike) — leaves the session as it was before the step (no optimiser step, the schedule not advanced).
    /// </summary>
    public StepDone Step(TrainingBatch batch, bool pause, int phaseEpochs)
    {
        _idle += _thread.TakeIdleSeconds(); // how long the thread waited for this batch
        FaultInjection.At("trainer.step");
        if (FaultInjection.Fires("trainer.hang"))
        {
            // a step that stops answering (as a hung native call would), for the watchdog test; bounded all the same
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(600, 3 * _settings.Config.Training.StallTimeoutSeconds)));
            throw new OperationCanceledException("a hung step woke up after its trainer was replaced");
        }
        var before = _schedule.State;
        var lr = _schedule.NextStep();
        _optimizer.LearningRate = lr;
        StepTotals totals;
        try
        {
            using var scope = NewDisposeScope();
            if (_settings.RankDevice.IsCuda)
                cuda.manual_seed(SampleSeed.For(_settings.Config.Training.Seed, _phase.Index, _step, stream: 7)); // CUDA draws a function of the step: resumable
            var x = batch.Size > 0 ? _settings.RankDevice.Tensor(batch.Inputs, [batch.Size, batch.Frames, batch.MelBins]) : null;
            var y = batch.Size > 0 && _model is not SsastModel ? _settings.RankDevice.Tensor(batch.Targets, [batch.Size, batch.NumClasses]) : null;
            Func<Tensor> loss = _model is SsastModel ssast
                ? () => PretextLosses(ssast, x!, batch, _epoch).Loss.sum()
                : () => TrainingStep.SummedLoss(_model, x!, y!, _loss);
            if (batch.Size > 0 && FaultInjection.Fires("trainer.nan-gradient")) loss = WithNanGradient(loss);
            totals = TrainingStep.RunRank(_model, _optimizer, batch.Size, loss, _exchange, batch.Skipped.Count, pause, phaseEpochs,
                _settings.Config.Training.ClipGradNorm);
        }
        catch (Exception e)
        {
            _schedule.Restore(before);
            _role.Ring?.Dispose(); // the other members' all-reduce fails at once instead of waiting for its timeout
            if (e is NonFiniteStepException nonFinite)
                throw new NonFiniteStepFailure(new NonFiniteStep(_phase.Index, _epoch, _step + 1, nonFinite.Quantity, nonFinite.Value), nonFinite);
            throw;
        }
        _phaseEpochs = totals.PhaseEpochs;
        if (totals.Samples > 0)
        {
            _step++;
            _lastLr = lr;
        }
        else _schedule.Restore(before); // a batch none of whose clips could be read: no step
        if (StepTrace.Enabled)
            StepTrace.Write($"rank{_settings.RankDevice.Name.Replace(':', '-')}-{_thread.Name}", new StepTrace.Line(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                Environment.ProcessId, _settings.RunIndex, _phase.Index, _generation, _role.World, _role.Rank, _epoch, batch.Batch, _step,
                batch.EndPosition, batch.Positions, totals.Samples, totals.Samples > 0, totals.MeanLoss));
        _position = batch.EndPosition;
        _lossSum += totals.LossSum;
        _samples += totals.Samples;
        _flops += _flopsPerSample * totals.Samples;
        _skipped += totals.Skipped;
        _gradNormMax = Math.Max(_gradNormMax, totals.GradNorm);
        var every = _settings.Config.Training.CheckpointEverySteps;
        bool due = totals.Samples > 0 && every > 0 && _step % every == 0;
        var checkpoint = due && _role.Rank == 0 ? WriteCheckpoint(epochComplete: false) : null;
        return new StepDone(_step, totals.MeanLoss, _position, lr, checkpoint, totals.Pause, due && _role.World > 1 ? ParameterHash() : null,
            totals.GradNorm);
    }

    /// <summary>
    /// The fault point trainer.nan-gradient: the loss plus a term that adds exactly 0 to it but NaN to the first
    /// parameter's gradient (|0·p|^½ differentiated at 0: ∞ · 0) — one rank's gradient poisoned, its loss finite.
    /// </summary>
    Func<Tensor> WithNanGradient(Func<Tensor> loss) => () =>
    {
        using var s = new ScalarScope();
        var first = _model.parameters().First(p => p.requires_grad);
        return loss().Plus(first.mul(s.Of(0.0)).abs().sqrt().sum());
    };

    (Tensor Accuracy, Tensor Nce, Tensor Mse, Tensor Loss) PretextLosses(SsastModel model, Tensor x, TrainingBatch batch, int epoch)
    {
        var (discriminative, generative) = PretextMasks.Of(model, batch.Positions, _settings.Config.Training.Seed, _phase.Index, epoch, _settings.RankDevice);
        return SsastPretext.Run(model, x, discriminative, generative);
    }

    /// <summary>After the epoch's last batch: MultiStepLR steps, the epoch-end checkpoint is written, the next epoch begins.</summary>
    public EpochDone EndEpoch(EpochDrained drained)
    {
        _position = drained.Positions;
        if (_samples == 0)
            throw new InvalidDataException($"phase {_phase.Index + 1} epoch {_epoch + 1}: no readable audio — all {_skipped} clips were skipped");
        _schedule.EndEpoch();
        var checkpoint = _role.Rank == 0 ? WriteCheckpoint(epochComplete: true) : null;
        var phaseDone = _epoch + 1 >= _phaseEpochs;
        var hash = _role.World > 1 ? ParameterHash() : null;
        if (!phaseDone) StartEpoch(_epoch + 1, 0);
        return new EpochDone(checkpoint, phaseDone, _step, hash);
    }

    /// <summary>What this rank holds, for the supervisor (the parameter hash identifies the weights across replicas).</summary>
    public LiveState Live(bool running) => new(_settings.RunIndex, _phase.Index, _generation, _epoch, _position, _step, ParameterHash(),
        Totals, _lastLr, running);

    /// <summary>The whole state as a checkpoint stream, for a joining rank (<see cref="StateTransfer"/>).</summary>
    public void WriteState(Stream output) => CheckpointFile.Write(output, _model, _optimizer, Info(), Manifest());

    CheckpointCommitted WriteCheckpoint(bool epochComplete)
    {
        Directory.CreateDirectory(_settings.CheckpointDirectory);
        var path = Path.Combine(_settings.CheckpointDirectory,
            $"r{_settings.RunIndex}-p{_phase.Index}-e{_epoch}-s{_step}{(epochComplete ? "-end" : "")}{(_generation > 0 ? $"-g{_generation}" : "")}.ckpt");
        // a rank that was replaced (a restart after a fault) must leave the checkpoints to its successor
        if (_thread.Abandoned) throw new OperationCanceledException($"generation {_generation} was replaced; not writing {path}");
        string sha;
        try { sha = CheckpointFile.Save(path, _model, _optimizer, Info(), Manifest()); }
        catch (IOException)
        {
            // e.g. the disk is full: drop the partial temporary file; the last committed checkpoint is untouched
            try { File.Delete(path + ".tmp"); } catch (IOException) { }
            throw;
        }
        var t = Totals;
        return new CheckpointCommitted(path, sha, _phase.Index, _epoch, _step, _position, epochComplete,
            t.WallSeconds, t.IdleSeconds, t.LossSum, t.Samples, t.Flops, t.Skipped, _lastLr, t.GradNormMax);
    }

    TrainingCheckpointInfo Info() => new(_phase.Index, _step, _epoch, _position, CommittedCheckpoint.Encode(_schedule.State),
        TorchRng.Capture(), _settings.Config.Training.Seed, 0, _settings.ConfigHash);

    string Manifest() => new CheckpointManifest(_settings.Config.ToJson(), _settings.RunIndex, _phase, _settings.Labels.Mids,
        _settings.Labels.DisplayNames).ToJson();

    /// <summary>SHA-256 of every parameter's bytes: equal on all replicas, or the ring failed to keep them in step.</summary>
    public string ParameterHash()
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var scope = NewDisposeScope();
        foreach (var p in _model.parameters())
            sha.AppendData(p.detach().cpu().contiguous().bytes);
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    public void Dispose()
    {
        _exchange.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }
}
