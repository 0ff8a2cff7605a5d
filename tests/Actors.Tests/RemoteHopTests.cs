using ActorTraining.Compute.Compression;
using Akka.Actor;
using Akka.Configuration;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// Every control message — all that nodes of a cluster send each other — crosses a real remote hop between two actor
/// systems on 127.0.0.1 (Akka remoting over TCP, the MessageSerializer bound as the nodes bind it) and comes back the
/// same bytes, actor references included; and at the largest size the system produces it fits in remoting's
/// maximum frame, which silently drops anything bigger.
/// </summary>
public sealed class RemoteHopTests : IDisposable
{
    const int MaximumFrame = 128_000;

    static Config Remote() => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, maximum-frame-size = {{MaximumFrame}}b }
        akka.loglevel = WARNING
        """).WithFallback(ConfigurationFactory.ParseString(TestConfig.Serializer));

    readonly ActorSystem _a = ActorSystem.Create("hop", Remote());
    readonly ActorSystem _b = ActorSystem.Create("hop", Remote());

    /// <summary>Sends back whatever it is sent (so the message crosses the wire twice).</summary>
    sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    /// <summary>Completes with the first message that reaches it.</summary>
    sealed class Catch(TaskCompletionSource<object> got) : ReceiveActor
    {
        protected override void PreStart() => Become(() => ReceiveAny(m => got.TrySetResult(m)));
    }

    static PhasePlan Plan(int i) => new(i, new Compression(CompressionMethod.Pool, 2, PoolingKind.Max), 3, 1e-3, 20, 128);

    static CheckpointCommitted Commit => new("/runs/r/checkpoints/r0-p0-e1-s9.ckpt", new string('a', 64), 0, 1, 9, 72, false, 3.5, 0.25, 12.5, 72, 1e12, 1, 5e-4);

    static LiveState Live(int generation) => new(0, 1, generation, 2, 480, 130, new string('F', 64), new EpochTotals(12.5, 0.5, 180.25, 240, 3e12, 1), 1e-3, false);

    static RankAddress Address(int node, int rank) => new($"10.1.{node / 256}.{node % 256}:4053", rank, rank == 0 ? "cuda:0" : $"cuda:{rank}", $"10.1.{node / 256}.{node % 256}:{40000 + rank}");

    /// <summary>One of each control message type, each at the largest size this system makes it.</summary>
    IReadOnlyList<IControlMessage> Examples(IActorRef someRank)
    {
        var members = Enumerable.Range(0, 64).Select(i => Address(i / 8, i % 8)).ToList(); // 64 GPUs on 8 nodes
        var events = new IControlMessage[]
        {
            new RunStarted("hash", Enumerable.Range(0, 8).Select(Plan).ToList()),
            new PhaseStarted(1, new Compression(CompressionMethod.FShift, 4, PoolingKind.Avg), 64),
            Commit,
            new EpochCompleted(0, 1, new Dictionary<string, double> { ["accuracy"] = 0.5, ["train_loss"] = double.NaN, ["dprime"] = double.PositiveInfinity }, 2e12, 4.5, 0.5, 72, 0),
            new PhaseCompleted(2),
            new RunCompleted("/runs/r/checkpoints/final.ckpt", "cd34"),
            new TrainingRestarted(1, 3, "trainer", "injected fault at trainer.step"),
            new RestartBudgetSpent("watchdog", "no training step for 300 s", 3),
            new RestartBudgetReset(),
            new GenerationFormed(7, members, 1, 2, 480, 130, "live"),
            new PhaseLengthDecided(0, 5, true, 7, 9, new string('r', 600)),
            new WeightsAveraged(2, new WeightAveraging(5, 24), "/runs/r/checkpoints/r0-p2-averaged-e6-e25.ckpt", "ef56"),
            new AveragedWeightsEvaluated(2, new WeightAveraging(5, 24), new Dictionary<string, double> { ["map"] = 0.45, ["dprime"] = double.PositiveInfinity }),
            new PhaseProbed(0, 7, ProbePurpose.Slope, 14, 1.6796, 1.4885, 2.9e10, 3.4e10, 5.7, 26, 1.4424, 1.718, 2.9e10),
            new CurriculumStuck(0, new string('s', 600)),
        };
        var what = new EvaluateCheckpoint(new CheckpointRef(Commit.Path, Commit.Sha256), Plan(0), 1);
        var scores = Enumerable.Range(0, Evaluator.ScoresPerMessage).Select(i => (float)Math.Sin(i)).ToArray();
        return
        [
            .. events,
            new StartRun("hash", Enumerable.Range(0, 8).Select(Plan).ToList(),
                new AdaptiveSchedule("accuracy", true, true, 2, 2, 3, 0.5, Enumerable.Range(0, 8).Select(i => 1e9 * (i + 1)).ToList())),
            GetRunState.Instance,
            new RunFailed(new string('x', 2000)),
            new TrainingFaulted("trainer", new string('y', 2000), 4),
            new TrainingProgress(1, 2, 3, 10, 12345, 480, 1_000_000, 1.25, 3.5, 4.5e-4),
            new CommitCheckpoint(Commit, 7),
            new CheckpointRef(Commit.Path, Commit.Sha256),
            new RegisterRanks("10.1.0.7:4053", new string('f', 64) + "/data:" + new string('e', 64),
                Enumerable.Range(0, 8).Select(i => new RankRegistration(someRank, Address(7, i), Live(6))).ToList()),
            new RanksRegistered(),
            new RanksRefused(new string('z', 500)),
            new JoinGeneration(0, 7, Plan(1), members, 63, new GenerationStart(Live(6), 12, Commit, new CheckpointRef(Commit.Path, Commit.Sha256))),
            new GenerationReady(0, 7, 63, "fetched from 10.1.0.1:4053/0 (cuda:0) (350.0 MB in 0.48 s)"),
            new GenerationReady(0, 0, 0, "fresh", "hf:/runs/shared/ast-audioset; its head has 527 classes, the run 10: the head starts from the run's seed"),
            new PauseGeneration(0, 7),
            new ExtendPhase(0, 7, 1, 12),
            new ProbeNextPhase(0, new ProbeRequest(Plan(0), 7, ProbePurpose.Slope, 14, new CheckpointRef(Commit.Path, Commit.Sha256), Plan(1), 26), someRank),
            new ProbeMeasured(0, new PhaseProbed(1, 4, ProbePurpose.Stuck, 8, 2.3026, 2.3031, 6.9e9, 1.3e10, 2.1)),
            new ProbeFailed(0, 1, 4, "probe: " + new string('p', 500)),
            new AdoptGeneration(0, 7),
            new CommitAcknowledged(0, 7, Commit.Path),
            new RegisterAgain(),
            new AbortGeneration(0, 7, true),
            new RankStopped(0, 7, 63, RankStopReason.RingBroken, Live(7), new string('w', 300)),
            new ReplicaHash(0, 7, 63, 130, true, new string('F', 64)),
            what,
            new EvaluateShard(0, 9, what, 63, 64, someRank, ScoreOutput.Embeddings),
            new ScoredRows(9, 12, 1, 4, Enumerable.Range(0, Evaluator.ScoresPerMessage / 527 + 1).Select(i => 100_000L + i).ToArray(), scores, 0,
                Enumerable.Range(0, 4).Select(i => $"/data/audioset/eval/unreadable-{i}.flac").ToList()),
            new EvaluationAborted(9, 63, "evaluation failed: CUDA out of memory", false),
            new EvaluationDone(0, 1, new Dictionary<string, double> { ["map"] = 0.4, ["eval_loss"] = double.NaN }),
            new EvaluationProgress(0, 1, 17),
            new ClipScores(Enumerable.Range(0, 40).Select(i => new float[527]).ToList(), ["/a.wav"]),
            new RunEvent(0, new EpochCompleted(0, 1, new Dictionary<string, double> { ["accuracy"] = 0.5 }, 2e12, 4.5, 0.5, 72, 0)),
            new RunEvent(1, new GenerationFormed(7, members, 1, 2, 480, 130, "live")),
            new ExperimentEnded(Enumerable.Range(0, 10).Select(i => new RunOutcome(i, $"/runs/r/checkpoints/r{i}-final.ckpt", null,
                Enumerable.Range(0, 3).Select(k => $"trainer: fault {k}").ToList(), 12)).ToList()),
        ];
    }

    [Fact]
    public void EveryControlMessageCrossesARemoteHopAndComesBackTheSameBytesWithinTheFrameSize()
    {
        var echo = _b.ActorOf(Props.Create(() => new Echo()), "echo");
        var bAddress = ((ExtendedActorSystem)_b).Provider.DefaultAddress;
        var remoteEcho = _a.ActorSelection(new RootActorPath(bAddress) / "user" / "echo").ResolveOne(TimeSpan.FromSeconds(10)).Result;
        var someRank = _a.ActorOf(Props.Create(() => new Echo()), "rank-0");
        var examples = Examples(someRank);
        Assert.Equal(MessageSerializer.Manifests.Keys.OrderBy(t => t.Name), examples.Select(e => e.GetType()).Distinct().OrderBy(t => t.Name));
        var serializer = _a.Serialization.FindSerializerForType(typeof(IControlMessage));
        Assert.IsType<MessageSerializer>(serializer);
        foreach (var message in examples)
        {
            Assert.IsType<MessageSerializer>(_a.Serialization.FindSerializerFor(message));
            var bytes = serializer.ToBinary(message);
            Assert.True(bytes.Length < MaximumFrame - 4_000, $"{message.GetType().Name}: {bytes.Length} bytes, too close to the {MaximumFrame}-byte frame");
            var got = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            var catcher = _a.ActorOf(Props.Create(() => new Catch(got)));
            remoteEcho.Tell(message, catcher);
            Assert.True(got.Task.Wait(TimeSpan.FromSeconds(10)), $"{message.GetType().Name} ({bytes.Length} bytes) did not come back over the hop");
            var back = got.Task.Result;
            Assert.Equal(message.GetType(), back.GetType());
            Assert.Equal(bytes, serializer.ToBinary(back));
            _a.Stop(catcher);
        }
    }

    public void Dispose()
    {
        Task.WaitAll([_a.Terminate(), _b.Terminate()], TimeSpan.FromSeconds(20));
    }
}
