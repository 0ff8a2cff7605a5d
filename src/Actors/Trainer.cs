using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Runtime;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Trains one phase at a time on orders from the <see cref="PhaseSupervisor"/> (its parent). All torch work runs on
/// the trainer's own <see cref="TorchThread"/>; results come back as messages, so the mailbox never blocks. Owns the
/// phase's data pipeline (a <see cref="Batcher"/> child with the chain behind it) and pulls from it: it keeps
/// <see cref="Prefetch"/> batches requested and asks for one more per finished step. Every checkpoint it writes is
/// proposed to the supervisor (<see cref="CommitCheckpoint"/>) and only trusted once the supervisor persisted it.
/// Failures go up, never sideways: an exception on the torch thread becomes <see cref="TrainingFaulted"/> (or, when a
/// person must act, <see cref="RunFailed"/>) to the supervisor; a failing pipeline stage escalates through the
/// batcher to this actor and on to the supervisor, which restarts training from the last committed checkpoint.
/// </summary>
public sealed class Trainer : ReceiveActor
{
    public const int Prefetch = 2;

    readonly RunSettings _settings;
    readonly ILoggingAdapter _log = Context.GetLogger();
    readonly TorchThread[] _threads;     // one per rank: torch dispose scopes are thread-static
    readonly RunSettings[] _rankSettings; // the run's settings with each rank's device
    TrainingSession[]? _sessions;
    RingAllReduce[]? _ring;
    PhasePlan? _phase;
    IActorRef? _batcher;
    long _epochSize;
    int _epoch;
    readonly Stopwatch _rateClock = new();
    long _rateSteps;

    public Trainer(RunSettings settings)
    {
        _settings = settings;
        var devices = RankDevice.Resolve(settings.Config.Training.DeviceNames, RankDevice.Available());
        _rankSettings = devices.Select(d => settings with { Device = d }).ToArray();
        _threads = devices.Select((_, r) => new TorchThread(devices.Count == 1 ? $"trainer-{settings.RunIndex}" : $"trainer-{settings.RunIndex}-rank{r}")).ToArray();

        Receive<TrainPhase>(order =>
        {
            StopPipeline();
            var previous = _sessions;
            var previousRing = _ring;
            _sessions = null;
            _phase = order.Phase;
            int world = _threads.Length;
            // the data plane of this generation: the ranks' ring over loopback TCP (none for one rank)
            var ring = _ring = world > 1 ? LocalRing.Create(world, RingTimeout, order.Generation) : null;
            BeginRanks(order, previous, previousRing, ring).PipeTo(Self);
        });
        Receive<RanksBegun>(begun =>
        {
            _sessions = begun.Sessions;
            _epoch = begun.Ready.Epoch;
            _log.Info("phase {0} ({1} C={2}): epoch {3} from position {4}, step {5}", _phase!.Index, _phase.Method,
                _phase.Factor, begun.Ready.Epoch, begun.Ready.Position, begun.Ready.Step);
            _batcher = Context.ActorOf(Batcher.Props(settings.Pipeline(_phase, training: true), Self), $"pipeline-p{_phase.Index}");
            _epochSize = settings.TrainEntries.Count;
            _batcher.Tell(new StartEpoch(begun.Ready.Epoch, begun.Ready.Position));
            _batcher.Tell(new RequestBatches(Prefetch));
            _rateClock.Restart();
            _rateSteps = 0;
        });
        Receive<TrainingBatch>(_ => Sender.Equals(_batcher), batch =>
        {
            var sessions = _sessions!;
            OnEveryRank(sessions, s => s.Step(batch)).ContinueWith(t => Agreed(t.Result, d => d.ParameterHash, "step " + t.Result[0].Step),
                TaskContinuationOptions.ExecuteSynchronously).PipeTo(Self);
        });
        Receive<TrainingSession.StepDone>(done =>
        {
            _batcher?.Tell(new RequestBatches(1));
            _rateSteps++;
            var rate = _rateSteps / Math.Max(1e-9, _rateClock.Elapsed.TotalSeconds);
            Context.Parent.Tell(new TrainingProgress(_phase!.Index, _settings.Curriculum.Count, _epoch, _phase.Epochs, done.Step,
                done.Position, _epochSize, done.Loss, rate));
            if (done.Checkpoint is { } c) Context.Parent.Tell(new CommitCheckpoint(c));
        });
        Receive<EpochDrained>(_ => Sender.Equals(_batcher), drained =>
        {
            var sessions = _sessions!;
            OnEveryRank(sessions, s => s.EndEpoch(drained)).ContinueWith(t => Agreed(t.Result, d => d.ParameterHash, "the epoch's end"),
                TaskContinuationOptions.ExecuteSynchronously).PipeTo(Self);
        });
        Receive<TrainingSession.EpochDone>(done =>
        {
            var checkpoint = done.Checkpoint!; // rank 0's
            Context.Parent.Tell(new CommitCheckpoint(checkpoint));
            _log.Info("phase {0} epoch {1} trained: {2} samples, {3:F1} s, trainer idle {4:F1} s", checkpoint.Phase,
                checkpoint.Epoch, checkpoint.EpochSamples, checkpoint.EpochWallSeconds, checkpoint.EpochIdleSeconds);
            if (done.PhaseDone) StopPipeline();
            else
            {
                _epoch = checkpoint.Epoch + 1;
                _batcher!.Tell(new StartEpoch(_epoch, 0));
            }
        });
        Receive<Status.Failure>(f =>
        {
            var cause = TrainingFailure.Unwrap(f.Cause);
            if (cause is TaskCanceledException or OperationCanceledException) return; // work dropped on the way out
            _log.Error("training failed: {0}", cause.Message);
            Context.Parent.Tell(TrainingFailure.Report("trainer", cause));
        });
    }

    void StopPipeline()
    {
        if (_batcher is null) return;
        Context.Stop(_batcher);
        _batcher = null;
    }

    /// <summary>The ranks' sessions, begun one after another (the generator that draws the weights is process-wide).</summary>
    async Task<RanksBegun> BeginRanks(TrainPhase order, TrainingSession[]? previous, RingAllReduce[]? previousRing, RingAllReduce[]? ring)
    {
        int world = _threads.Length;
        var sessions = new TrainingSession[world];
        TrainingSession.Ready? ready = null;
        for (int r = 0; r < world; r++)
        {
            var (thread, settings, rank) = (_threads[r], _rankSettings[r], r);
            var role = ring is null ? RankRole.Single : new RankRole(rank, world, ring[rank]);
            var old = previous?[rank];
            var (session, rankReady) = await thread.Run(() =>
            {
                old?.Dispose();
                return TrainingSession.Begin(settings, thread, order, role);
            });
            sessions[r] = session;
            ready ??= rankReady;
        }
        foreach (var link in previousRing ?? []) link.Dispose();
        return new RanksBegun(sessions, ready!);
    }

    sealed record RanksBegun(TrainingSession[] Sessions, TrainingSession.Ready Ready);

    /// <summary>Runs <paramref name="work"/> on every rank's thread at once (they meet in the all-reduce); rank order kept.</summary>
    Task<T[]> OnEveryRank<T>(TrainingSession[] sessions, Func<TrainingSession, T> work) =>
        Task.WhenAll(sessions.Select((s, r) => _threads[r].Run(() => work(s))));

    /// <summary>Rank 0's result, once every replica reported the same parameter hash (when one was taken).</summary>
    static T Agreed<T>(T[] results, Func<T, string?> hash, string at)
    {
        var hashes = results.Select(hash).ToArray();
        if (hashes[0] is not null && hashes.Any(h => h != hashes[0]))
            throw new InvalidOperationException($"the {results.Length} replicas diverged at {at}: parameter hashes " +
                string.Join(", ", hashes.Select(h => h?[..12])) + " (a ring that does not keep them bit-identical is a bug)");
        return results[0];
    }

    /// <summary>How long a rank waits for its neighbour in the all-reduce before the step fails.</summary>
    static readonly TimeSpan RingTimeout = TimeSpan.FromSeconds(60);

    protected override void PostStop()
    {
        var sessions = _sessions;
        var ring = _ring;
        for (int r = 0; r < _threads.Length; r++)
        {
            var session = sessions?[r];
            _threads[r].Abandon(() => session?.Dispose());
        }
        foreach (var link in ring ?? []) link.Dispose(); // a rank blocked in the all-reduce fails at once
    }

    // A pipeline stage that throws past its ClipGuard lost its message: the phase cannot go on, the supervisor decides.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    public static Props Props(RunSettings settings) => Akka.Actor.Props.Create(() => new Trainer(settings));
}
