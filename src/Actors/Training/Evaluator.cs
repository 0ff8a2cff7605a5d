using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Scores its shard of the evaluation set with a committed checkpoint, one order at a time. It never touches a
/// trainer's memory: it loads the checkpoint file (verifying its SHA-256) into its own model on its own
/// <see cref="TorchThread"/>, and streams its shard — whole batches k ≡ shard (mod shards), each formed exactly as one
/// evaluator alone would — through its own pipeline (in order, no augmentation, the phase's compression). Each scored
/// batch goes to the order's collector as <see cref="ScoredRows"/> (an <see cref="EvaluationCollector"/> puts the
/// shards together). The torch thread consumes batches from a queue the actor fills; every consumed batch asks the
/// pipeline for one more, so the queue stays at most <see cref="Prefetch"/> long. A pipeline that stops or fails
/// mid-evaluation cancels the torch thread's wait (it never blocks for ever) and the collector hears
/// <see cref="EvaluationAborted"/>, never a partial shard as whole. An order of a later round for the same checkpoint
/// replaces the one under way or waiting (the supervisor dealt the shards again).
/// </summary>
public sealed class Evaluator : ReceiveActor, IWithStash
{
    public const int Prefetch = 2;

    sealed record Consumed;
    sealed record ShardScored(int Round);

    /// <summary>Scores per message: 16 Ki floats, ~90 kB once encoded, below the 128 kB remoting frame.</summary>
    public const int ScoresPerMessage = 16 * 1024;

    public IStash Stash { get; set; } = null!;

    readonly RunSettings _settings;
    readonly TorchThread _thread;
    readonly ILoggingAdapter _log = Context.GetLogger();
    IActorRef? _batcher;
    BlockingCollection<TrainingBatch>? _queue;
    CancellationTokenSource? _abort;
    EvaluateShard? _current;
    readonly List<EvaluateShard> _waiting = [];

    public Evaluator(RunSettings settings)
    {
        _settings = settings;
        _thread = BesideTraining(settings, "evaluator");
        Idle();
    }

    /// <summary>A torch thread for work beside a rank's training (scoring, probing). On the CPU it competes with the trainer
    /// for the same cores: it takes what the trainer leaves. On a GPU it only launches kernels, and starving it behind
    /// busy data workers would let that work pile up.</summary>
    internal static TorchThread BesideTraining(RunSettings settings, string role) =>
        new($"{role}-{settings.RunIndex}-{settings.RankDevice}", lowPriority: !settings.RankDevice.IsCuda);

    void Idle()
    {
        Receive<EvaluateShard>(Start);
        Receive<Status.Failure>(_ => { }); // an aborted evaluation's torch work, ending after its abort was reported
        Receive<ShardScored>(_ => { });
    }

    void Start(EvaluateShard order)
    {
        _current = order;
        var queue = _queue = new BlockingCollection<TrainingBatch>();
        var abort = _abort = new CancellationTokenSource();
        var self = Self;
        var phase = order.What.Phase;
        var config = _settings.PhaseModel(phase);
        var device = _settings.RankDevice;
        var checkpoint = order.What.Checkpoint;
        var loss = _settings.Config.Training.LossKind;
        var seed = _settings.Config.Training.Seed;
        var kind = order.Output switch
        {
            ScoreOutput.Probabilities => ScoreKind.Prediction,
            ScoreOutput.Embeddings => ScoreKind.Embedding,
            _ => ScoreKind.Metrics,
        };
        _thread.Run(() =>
        {
            using var model = device.Place(TorchRng.Preserving(() => AudioModel.Create(config)));
            CommittedCheckpoint.Load(checkpoint.Path, checkpoint.Sha256, model, null);
            foreach (var b in queue.GetConsumingEnumerable(abort.Token))
            {
                self.Tell(new Consumed());
                FaultInjection.At("evaluator.batch");
                float[] scores = [];
                double lossSum = 0;
                if (b.Size > 0)
                {
                    using var x = device.Tensor(b.Inputs, [b.Size, b.Frames, b.MelBins]);
                    if (model is SsastModel ssast && kind == ScoreKind.Metrics)
                    {
                        var (discriminative, generative) = PretextMasks.Of(ssast, b.Positions, seed, phase.Index, SampleSeed.EvaluationEpoch, device);
                        using (discriminative)
                        using (generative)
                            (scores, lossSum) = Evaluation.Score(ssast, x, discriminative, generative);
                    }
                    else
                    {
                        using var y = device.Tensor(b.Targets, [b.Size, b.NumClasses]);
                        (scores, lossSum) = Evaluation.Score(model, x, y, loss, kind);
                    }
                }
                Send(order, b, scores, lossSum);
            }
            abort.Token.ThrowIfCancellationRequested(); // a partial shard is never reported as whole
            return new ShardScored(order.Round);
        }).PipeTo(Self);
        var share = DataShare.Stripe(_settings.Config.Training.BatchSize, order.Shard, order.Shards);
        _batcher = Context.ActorOf(Batcher.Props(_settings.Pipeline(phase, training: false, share), Self), $"eval-{Guid.NewGuid():N}");
        Context.Watch(_batcher);
        _batcher.Tell(new StartEpoch(0, 0));
        _batcher.Tell(new RequestBatches(Prefetch));
        Become(Busy);
    }

    /// <summary>A scored batch to the collector, in parts no larger than <see cref="ScoresPerMessage"/> scores.</summary>
    static void Send(EvaluateShard order, TrainingBatch b, float[] scores, double lossSum)
    {
        int rows = b.Size, classes = rows == 0 ? 0 : scores.Length / rows;
        int rowsPerPart = Math.Max(1, ScoresPerMessage / Math.Max(1, classes));
        int parts = Math.Max(1, (rows + rowsPerPart - 1) / rowsPerPart);
        for (int p = 0; p < parts; p++)
        {
            int first = p * rowsPerPart, count = Math.Min(rowsPerPart, rows - first);
            order.Collector.Tell(new ScoredRows(order.Round, b.Batch, p, parts, b.Positions[first..(first + count)],
                scores[(first * classes)..((first + count) * classes)], p == 0 ? lossSum : 0, p == 0 ? b.Skipped : []));
        }
    }

    void Busy()
    {
        Receive<EvaluateShard>(order =>
        {
            _waiting.RemoveAll(o => Same(o, order) && o.Round < order.Round);
            _waiting.Add(order);
            if (Same(_current!, order) && _current!.Round < order.Round) Finish(); // dealt again: its torch work is cancelled
        });
        Receive<TrainingBatch>(_ => Sender.Equals(_batcher), b => _queue!.Add(b));
        Receive<Consumed>(_ => _batcher?.Tell(new RequestBatches(1)));
        Receive<Terminated>(t => t.ActorRef.Equals(_batcher), _ =>
        {
            _log.Error("the evaluation pipeline stopped mid-evaluation");
            _batcher = null;
            Abort("the evaluation pipeline stopped before the evaluation set was read", permanent: false);
        });
        Receive<EpochDrained>(_ => Sender.Equals(_batcher), _ => _queue!.CompleteAdding());
        Receive<ShardScored>(s => s.Round == _current!.Round, _ => Finish());
        Receive<Status.Failure>(f =>
        {
            var cause = TrainingFailure.Unwrap(f.Cause);
            if (cause is OperationCanceledException) return; // aborted, and reported when it was
            _log.Error("evaluation failed: {0}", cause.Message);
            Abort("evaluation failed: " + TrainingFailure.Describe(cause), TrainingFailure.IsPermanent(cause));
        });
    }

    void Abort(string cause, bool permanent)
    {
        _current!.Collector.Tell(new EvaluationAborted(_current.Round, _current.Shard, cause, permanent));
        Finish();
    }

    void Finish()
    {
        _abort?.Cancel(); // the torch thread's wait ends; its cancelled result is dropped
        if (_batcher is not null)
        {
            Context.Unwatch(_batcher);
            Context.Stop(_batcher);
        }
        _batcher = null;
        _queue?.CompleteAdding();
        _queue = null;
        _current = null;
        Become(Idle);
        foreach (var order in _waiting.ToList())
        {
            _waiting.Remove(order);
            Self.Tell(order);
            break; // one at a time; the rest follow as each finishes
        }
    }

    static bool Same(EvaluateShard a, EvaluateShard b) => a.RunIndex == b.RunIndex && a.What.Phase.Index == b.What.Phase.Index && a.What.Epoch == b.What.Epoch;

    protected override void PostStop()
    {
        _abort?.Cancel();
        _queue?.CompleteAdding();
        _thread.Dispose();
    }

    // A failing pipeline stage lost work the evaluation waits for: the batcher stops, and the Terminated above reports it.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    public static Props Props(RunSettings settings) => Akka.Actor.Props.Create(() => new Evaluator(settings));
}
