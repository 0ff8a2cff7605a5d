using System.Diagnostics;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Actors;

/// <summary>
/// A trainer's torch state for one phase — model, optimiser, LR schedule, the epoch's running totals. Lives on the
/// trainer's <see cref="TorchThread"/> only; every method is called there and returns plain values the actor can
/// message about. One dispose scope per batch.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    public sealed record Ready(int Epoch, long Position, long Step);
    public sealed record StepDone(long Step, float Loss, long Position, double Lr, CheckpointCommitted? Checkpoint, string? ParameterHash = null);
    /// <summary>The epoch's end; <paramref name="Checkpoint"/> is rank 0's (null on the other ranks).</summary>
    public sealed record EpochDone(CheckpointCommitted? Checkpoint, bool PhaseDone, string? ParameterHash = null);

    readonly RunSettings _settings;
    readonly TorchThread _thread;
    readonly PhasePlan _phase;
    readonly AstModel _model;
    readonly AdamOptimizer _optimizer;
    readonly LrSchedule _schedule;
    readonly double _flopsPerSample;
    readonly LossKind _loss;
    readonly int _generation;
    readonly RankRole _role;
    readonly GradientExchange? _exchange;
    int _epoch;
    long _position;
    long _step;
    double _wallBefore, _idleBefore, _idle, _lossSum, _flops;
    long _samples;
    double _lastLr;
    int _skipped;
    Stopwatch _epochClock = new();

    TrainingSession(RunSettings settings, TorchThread thread, PhasePlan phase, AstModel model, AdamOptimizer optimizer,
        LrSchedule schedule, int generation, RankRole role)
    {
        _generation = generation;
        _role = role;
        _exchange = role.Ring is { } ring ? new GradientExchange(model, ring) : null;
        _settings = settings;
        _thread = thread;
        _phase = phase;
        _model = model;
        _optimizer = optimizer;
        _schedule = schedule;
        var (fwd, bwd) = FlopCounter.PerSample(model.Config);
        _flopsPerSample = fwd + bwd;
        _loss = settings.Config.Training.LossKind;
    }

    /// <summary>Builds the phase's model: resumed from its own checkpoint, carried over from the previous phase's final one, or initialised from the seed.</summary>
    public static (TrainingSession Session, Ready Ready) Begin(RunSettings settings, TorchThread thread, TrainPhase order) =>
        Begin(settings, thread, order, RankRole.Single);

    /// <summary>As above, for one rank of several: every rank builds the same replica (the generator is process-wide,
    /// so ranks begin one after another), only rank 0 writes checkpoints.</summary>
    public static (TrainingSession Session, Ready Ready) Begin(RunSettings settings, TorchThread thread, TrainPhase order, RankRole role)
    {
        var phase = order.Phase;
        var config = settings.PhaseModel(phase);
        // models are drawn on the CPU (one generator, the same weights for every device) and then placed on the rank's device
        var device = settings.RankDevice;
        var schedule = new LrScheduleSettings(phase.Lr, phase.WarmupSteps, settings.Config.Training.LrDecayStart,
            settings.Config.Training.LrDecayStep, settings.Config.Training.LrDecayGamma);
        AstModel model;
        if (order.Resume is { } resume)
        {
            model = device.Place(TorchRng.Preserving(() => new AstModel(config)));
            var optimizer = TrainingStep.CreateOptimizer(model, phase.Lr, settings.Config.Training.AdamSettings);
            var info = LoadCheckpoint(resume.Path, resume.Sha256, model, optimizer);
            TorchRng.Restore(info.TorchRngState);
            var session = new TrainingSession(settings, thread, phase, model, optimizer, new LrSchedule(schedule, CommittedCheckpoint.Decode(info.LrScheduleState)), order.Generation, role)
            {
                _step = resume.Step,
            };
            if (resume.EpochComplete) session.StartEpoch(resume.Epoch + 1, 0);
            else
            {
                session.StartEpoch(resume.Epoch, resume.DataPosition);
                session._wallBefore = resume.EpochWallSeconds;
                session._idleBefore = resume.EpochIdleSeconds;
                session._lossSum = resume.EpochLossSum;
                session._samples = resume.EpochSamples;
                session._flops = resume.EpochFlops;
                session._skipped = resume.EpochSkipped;
            }
            return (session, new Ready(session._epoch, session._position, session._step));
        }
        if (order.TransferFrom is { } from)
        {
            var previous = settings.Plan()[phase.Index - 1];
            using var source = device.Place(TorchRng.Preserving(() => new AstModel(settings.PhaseModel(previous))));
            LoadCheckpoint(from.Path, from.Sha256, source, null);
            // Seeded, not preserved: a resumed run starts a later phase in a fresh process whose generator was never
            // seeded, and the state every checkpoint of this phase stores must not depend on that.
            model = device.Place(TorchRng.Seeded(SampleSeed.ForPhaseStart(settings.Config.Training.Seed, phase.Index),
                () => PhaseTransfer.Transfer(source, config)));
        }
        else
        {
            // Phase 0 starts from weights drawn from the run's seed, the same on every run.
            model = device.Place(TorchRng.Seeded(settings.Config.Training.Seed, () => new AstModel(config)));
        }
        var fresh = new TrainingSession(settings, thread, phase, model,
            TrainingStep.CreateOptimizer(model, phase.Lr, settings.Config.Training.AdamSettings), new LrSchedule(schedule), order.Generation, role);
        fresh.StartEpoch(0, 0);
        return (fresh, new Ready(0, 0, 0));
    }

    void StartEpoch(int epoch, long position)
    {
        _epoch = epoch;
        _position = position;
        _wallBefore = _idleBefore = _idle = _lossSum = _flops = 0;
        _samples = 0;
        _skipped = 0;
        _thread.TakeIdleSeconds();
        _epochClock = Stopwatch.StartNew();
    }

    public StepDone Step(TrainingBatch batch)
    {
        _idle += _thread.TakeIdleSeconds(); // how long the thread waited for this batch
        FaultInjection.At("trainer.step");
        if (FaultInjection.Fires("trainer.hang"))
        {
            // a step that stops answering (as a hung native call would), for the watchdog test; bounded all the same
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(600, 3 * _settings.Config.Training.StallTimeoutSeconds)));
            throw new OperationCanceledException("a hung step woke up after its trainer was replaced");
        }
        var lr = _schedule.NextStep();
        _optimizer.LearningRate = lr;
        _lastLr = lr;
        float loss;
        using (var scope = NewDisposeScope())
        {
            if (_exchange is null)
            {
                var x = _settings.RankDevice.Tensor(batch.Inputs, [batch.Size, batch.Frames, batch.MelBins]);
                var y = _settings.RankDevice.Tensor(batch.Targets, [batch.Size, batch.NumClasses]);
                loss = TrainingStep.Run(_model, _optimizer, x, y, _loss);
            }
            else
            {
                // this rank's contiguous share of the global batch; the ring makes the update the full batch's
                var (offset, count) = new GlobalBatch(batch.Size, _role.Rank, _role.World).Share();
                int sample = batch.Frames * batch.MelBins;
                var x = _settings.RankDevice.Tensor(batch.Inputs[(offset * sample)..((offset + count) * sample)], [count, batch.Frames, batch.MelBins]);
                var y = _settings.RankDevice.Tensor(batch.Targets[(offset * batch.NumClasses)..((offset + count) * batch.NumClasses)], [count, batch.NumClasses]);
                try { loss = TrainingStep.RunShare(_model, _optimizer, x, y, _loss, GlobalBatch.Weight(count, batch.Size), _exchange); }
                catch
                {
                    _role.Ring!.Dispose(); // the other ranks' all-reduce fails at once instead of waiting for its timeout
                    throw;
                }
            }
        }
        _step++;
        _position = batch.EndPosition;
        _lossSum += loss * batch.Size;
        _samples += batch.Size;
        _flops += _flopsPerSample * batch.Size;
        _skipped += batch.Skipped.Count;
        var every = _settings.Config.Training.CheckpointEverySteps;
        bool due = every > 0 && _step % every == 0;
        var checkpoint = due && _role.Rank == 0 ? WriteCheckpoint(epochComplete: false) : null;
        return new StepDone(_step, loss, _position, lr, checkpoint, due && _role.World > 1 ? ParameterHash() : null);
    }

    /// <summary>After the epoch's last batch: MultiStepLR steps, the epoch-end checkpoint is written, the next epoch begins.</summary>
    public EpochDone EndEpoch(EpochDrained drained)
    {
        _position = drained.Positions;
        _skipped += drained.Skipped.Count;
        if (_samples == 0)
            throw new InvalidDataException($"phase {_phase.Index + 1} epoch {_epoch + 1}: no readable audio — all {_skipped} clips were skipped");
        _schedule.EndEpoch();
        var checkpoint = _role.Rank == 0 ? WriteCheckpoint(epochComplete: true) : null;
        var phaseDone = _epoch + 1 >= _phase.Epochs;
        var hash = _role.World > 1 ? ParameterHash() : null;
        if (!phaseDone) StartEpoch(_epoch + 1, 0);
        return new EpochDone(checkpoint, phaseDone, hash);
    }

    CheckpointCommitted WriteCheckpoint(bool epochComplete)
    {
        Directory.CreateDirectory(_settings.CheckpointDirectory);
        var path = Path.Combine(_settings.CheckpointDirectory,
            $"r{_settings.RunIndex}-p{_phase.Index}-e{_epoch}-s{_step}{(epochComplete ? "-end" : "")}{(_generation > 0 ? $"-g{_generation}" : "")}.ckpt");
        // a trainer that was replaced (a restart after a fault) must leave the checkpoints to its successor
        if (_thread.Abandoned) throw new OperationCanceledException($"trainer generation {_generation} was replaced; not writing {path}");
        var info = new TrainingCheckpointInfo(_phase.Index, _step, _epoch, _position, CommittedCheckpoint.Encode(_schedule.State),
            TorchRng.Capture(), _settings.Config.Training.Seed, 0, _settings.ConfigHash);
        var manifest = new CheckpointManifest(_settings.Config.ToJson(), _settings.RunIndex, _phase, _settings.Labels.Mids,
            _settings.Labels.DisplayNames).ToJson();
        string sha;
        try { sha = CheckpointFile.Save(path, _model, _optimizer, info, manifest); }
        catch (IOException)
        {
            // e.g. the disk is full: drop the partial temporary file; the last committed checkpoint is untouched
            try { File.Delete(path + ".tmp"); } catch (IOException) { }
            throw;
        }
        var committed = new CheckpointCommitted(path, sha, _phase.Index, _epoch, _step, _position, epochComplete,
            _wallBefore + _epochClock.Elapsed.TotalSeconds, _idleBefore + _idle, _lossSum, _samples, _flops, _skipped, _lastLr);
        return committed;
    }

    /// <summary>SHA-256 of every parameter's bytes: equal on all replicas, or the ring failed to keep them in step.</summary>
    string ParameterHash()
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var scope = NewDisposeScope();
        foreach (var p in _model.parameters())
            sha.AppendData(p.detach().cpu().contiguous().bytes);
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    static TrainingCheckpointInfo LoadCheckpoint(string path, string sha256, AstModel model, AdamOptimizer? optimizer) =>
        CommittedCheckpoint.Load(path, sha256, model, optimizer);

    public void Dispose()
    {
        _exchange?.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }
}
