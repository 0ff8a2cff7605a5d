using ActorTraining.Compute.Runtime;
using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;
using static TorchSharp.torch;

namespace ActorTraining.Actors;

/// <summary>
/// Evaluates committed checkpoints, one at a time, on the evaluation set. It never touches the trainer's memory: it
/// loads the checkpoint file (verifying its SHA-256) into its own model on its own <see cref="TorchThread"/>, and
/// streams the evaluation set through its own pipeline (in order, no augmentation, the phase's compression). The
/// torch thread consumes batches from a queue the actor fills; every consumed batch asks the pipeline for one more,
/// so the queue stays at most <see cref="Prefetch"/> long. It watches its pipeline: one that stops or fails
/// mid-evaluation cancels the torch thread's wait (it never blocks for ever) and reports a fault, never a partial
/// result. In a run it tells its parent (the supervisor) of each scored batch, for the watchdog.
/// </summary>
public sealed class Evaluator : ReceiveActor, IWithStash
{
    public const int Prefetch = 2;

    sealed record Consumed;

    public IStash Stash { get; set; } = null!;

    readonly RunSettings _settings;
    readonly TorchThread _thread;
    readonly ILoggingAdapter _log = Context.GetLogger();
    IActorRef? _replyTo;
    IActorRef? _batcher;
    BlockingCollection<TrainingBatch>? _queue;
    CancellationTokenSource? _abort;
    EvaluateCheckpoint? _current;
    readonly List<string> _skipped = [];
    readonly bool _reportsProgress;
    int _batches;

    public Evaluator(RunSettings settings, bool reportsProgress)
    {
        _settings = settings;
        _reportsProgress = reportsProgress;
        _thread = new TorchThread($"evaluator-{settings.RunIndex}");
        Idle();
    }

    void Idle()
    {
        Receive<EvaluateCheckpoint>(order =>
        {
            _current = order;
            Start(order.Checkpoint, order.Phase, (model, batches) => Evaluation.Run(model, batches, _settings.Config.Training.LossKind));
        });
        Receive<PredictClips>(order =>
        {
            _current = null;
            Start(order.Checkpoint, order.Phase, Predict);
        });
        Receive<Status.Failure>(_ => { }); // an aborted evaluation's torch work, ending after its abort was reported
    }

    void Start<T>(CheckpointRef checkpoint, PhasePlan phase, Func<AstModel, IEnumerable<(Tensor X, Tensor Y)>, T> work)
    {
        _replyTo = Sender;
        _skipped.Clear();
        var queue = _queue = new BlockingCollection<TrainingBatch>();
        var abort = _abort = new CancellationTokenSource();
        _batches = 0;
        var self = Self;
        var config = _settings.PhaseModel(phase);
        var device = _settings.RankDevice;
        _thread.Run(() =>
        {
            using var model = device.Place(TorchRng.Preserving(() => new AstModel(config)));
            CommittedCheckpoint.Load(checkpoint.Path, checkpoint.Sha256, model, null);
            return work(model, Batches(queue, self, device, abort.Token));
        }).PipeTo(Self);
        _batcher = Context.ActorOf(Batcher.Props(_settings.Pipeline(phase, training: false), Self), $"eval-{Guid.NewGuid():N}");
        Context.Watch(_batcher);
        _batcher.Tell(new StartEpoch(0, 0));
        _batcher.Tell(new RequestBatches(Prefetch));
        Become(Busy);
    }

    List<float[]> Predict(AstModel model, IEnumerable<(Tensor X, Tensor Y)> batches)
    {
        var rows = new List<float[]>();
        model.eval();
        using var noGrad = no_grad();
        foreach (var (x, _) in batches)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(x);
            var p = _settings.Config.Training.LossKind == LossKind.CrossEntropy ? nn.functional.softmax(logits, 1) : sigmoid(logits);
            var data = p.contiguous().data<float>().ToArray();
            int c = (int)p.shape[1];
            for (int i = 0; i < (int)p.shape[0]; i++) rows.Add(data.AsSpan(i * c, c).ToArray());
        }
        return rows;
    }

    void Busy()
    {
        Receive<EvaluateCheckpoint>(_ => Stash.Stash());
        Receive<PredictClips>(_ => Stash.Stash());
        Receive<TrainingBatch>(_ => Sender.Equals(_batcher), b =>
        {
            _skipped.AddRange(b.Skipped);
            _queue!.Add(b);
        });
        Receive<Consumed>(_ =>
        {
            _batcher?.Tell(new RequestBatches(1));
            if (_reportsProgress) Context.Parent.Tell(new EvaluationProgress(_current?.Phase.Index ?? -1, _current?.Epoch ?? -1, ++_batches));
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_batcher), _ =>
        {
            _log.Error("the evaluation pipeline stopped mid-evaluation");
            _batcher = null;
            _abort?.Cancel(); // the torch thread's wait ends; its cancelled result is dropped below
            _replyTo!.Tell(new TrainingFaulted("evaluator", "the evaluation pipeline stopped before the evaluation set was read"));
            Finish();
        });
        Receive<EpochDrained>(_ => Sender.Equals(_batcher), d =>
        {
            _skipped.AddRange(d.Skipped);
            _queue!.CompleteAdding();
        });
        Receive<List<float[]>>(rows =>
        {
            _replyTo!.Tell(new ClipScores(rows, _skipped.ToList()));
            Finish();
        });
        Receive<EvaluationResult>(result =>
        {
            var metrics = new Dictionary<string, double>
            {
                ["accuracy"] = result.Stats.Accuracy,
                ["map"] = result.Stats.MeanAveragePrecision,
                ["mauc"] = result.Stats.MeanAuc,
                ["dprime"] = result.Stats.DPrime,
                ["eval_loss"] = result.Loss,
            };
            _replyTo!.Tell(new EvaluationDone(_current?.Phase.Index ?? -1, _current?.Epoch ?? -1, metrics));
            Finish();
        });
        Receive<Status.Failure>(f =>
        {
            var cause = TrainingFailure.Unwrap(f.Cause);
            _log.Error("evaluation failed: {0}", cause.Message);
            _replyTo!.Tell(TrainingFailure.Report("evaluator", cause, "evaluation failed: "));
            Finish();
        });
    }

    void Finish()
    {
        if (_batcher is not null)
        {
            Context.Unwatch(_batcher);
            Context.Stop(_batcher);
        }
        _batcher = null;
        _queue?.CompleteAdding();
        _queue = null;
        Become(Idle);
        Stash.UnstashAll();
    }

    // Throws OperationCanceledException when the evaluation is aborted, so a partial set is never scored as whole.
    static IEnumerable<(Tensor X, Tensor Y)> Batches(BlockingCollection<TrainingBatch> queue, IActorRef self, RankDevice device, CancellationToken abort)
    {
        foreach (var b in queue.GetConsumingEnumerable(abort))
        {
            self.Tell(new Consumed());
            FaultInjection.At("evaluator.batch");
            using var x = device.Tensor(b.Inputs, [b.Size, b.Frames, b.MelBins]);
            using var y = device.Tensor(b.Targets, [b.Size, b.NumClasses]);
            yield return (x, y);
        }
    }

    protected override void PostStop()
    {
        _abort?.Cancel();
        _queue?.CompleteAdding();
        _thread.Dispose();
    }

    // A failing pipeline stage lost work the evaluation waits for: fail this evaluator up to the supervisor.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Escalate);

    /// <param name="reportsProgress">true in a run: tell the parent (the supervisor) of each batch, for its watchdog.</param>
    public static Props Props(RunSettings settings, bool reportsProgress) => Akka.Actor.Props.Create(() => new Evaluator(settings, reportsProgress));
}
