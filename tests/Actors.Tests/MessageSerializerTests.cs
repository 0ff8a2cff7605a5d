using ActorTraining.Compute.Compression;
using Akka.Actor;
using Akka.Serialization;
using ActorTraining.Actors;
using ActorTraining.Messages;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// Every control message — the supervisor's journal events and what nodes send each other — is bound to
/// MessageSerializer by the persistence configuration, written under its stable manifest (not a type name) and read
/// back to the same value; an unknown manifest is a clear error. (A real remote hop: Host.Tests/RemoteHopTests.)
/// </summary>
public sealed class MessageSerializerTests : IDisposable
{
    readonly ActorSystem _system = ActorSystem.Create("serializer", TestConfig.ForRun(Path.GetTempPath()));

    static readonly ISupervisorEvent[] Examples =
    [
        new RunStarted("hash", [new PhasePlan(0, new Compression(CompressionMethod.Pool, 2, PoolingKind.Max), 3, 1e-3, 10, 128)]),
        new PhaseStarted(1, new Compression(CompressionMethod.FShift, 4, PoolingKind.Avg), 64),
        new CheckpointCommitted("/runs/a/checkpoints/r0-p0-e1-s9.ckpt", "ab12", 0, 1, 9, 72, false, 3.5, 0.25, 12.5, 72, 1e12, 1, 5e-4),
        new EpochCompleted(0, 1, new Dictionary<string, double> { ["accuracy"] = 0.5, ["train_loss"] = double.NaN }, 2e12, 4.5, 0.5, 72, 0),
        new PhaseCompleted(2),
        new RunCompleted("/runs/a/checkpoints/final.ckpt", "cd34"),
        new TrainingRestarted(1, 3, "trainer", "injected fault at trainer.step"),
        new RestartBudgetSpent("watchdog", "no training step for 300 s", 3),
        new RestartBudgetReset(),
        new GenerationFormed(3, [new RankAddress("127.0.0.1:4053", 0, "cpu", "127.0.0.1:40001")], 1, 2, 48, 30, "live"),
        new PhaseLengthDecided(0, 3, true, 5, 9, "no new best accuracy for 2 epochs (best 0.812 at epoch 2)"),
        new WeightsAveraged(2, new WeightAveraging(5, 24), "/runs/a/checkpoints/r0-p2-averaged-e6-e25.ckpt", "ef56"),
        new AveragedWeightsEvaluated(2, new WeightAveraging(5, 24), new Dictionary<string, double> { ["map"] = 0.45 }),
        new PhaseProbed(0, 7, ProbePurpose.Slope, 10, 1.188, 1.0939, 8.6e9, 1.3e10, 3.6, 20, 1.1733, 1.1415, 8.4e9),
        new PhaseProbed(1, 4, ProbePurpose.Stuck, 8, 2.3026, 2.3031, 6.9e9, 1.3e10, 2.1),
        new CurriculumStuck(0, "phase 1 (pool-max C=4) did not start in 9 of its 10 epochs …: the optimisation is stuck, not the resolution"),
    ];

    [Fact]
    public void AnAdaptiveRunStartedCarriesItsScheduleAndOneWrittenBeforeTheSchedulerReadsAsFixed()
    {
        var serializer = (MessageSerializer)_system.Serialization.FindSerializerForType(typeof(RunStarted));
        var adaptive = new RunStarted("hash", [new PhasePlan(0, new Compression(CompressionMethod.Pool, 2, PoolingKind.Max), 3, 1e-3, 10, 128)],
            new AdaptiveSchedule("accuracy", true, true, 2, 2, 2, 0.5, [1.5e9, 6e9], "accuracy", 0.145, [14, 0]));
        var back = (RunStarted)serializer.FromBinary(serializer.ToBinary(adaptive), "run-started.v1");
        Assert.Equal([1.5e9, 6e9], back.Schedule!.SampleFlops);
        Assert.Equal([14, 0], back.Schedule.ProbeSteps!);
        Assert.Equal(adaptive.Schedule! with { SampleFlops = back.Schedule.SampleFlops, ProbeSteps = back.Schedule.ProbeSteps }, back.Schedule);
        // a schedule a build before the started gate wrote: no gate, so its decisions replay as they were made
        var before = (RunStarted)serializer.FromBinary(
            """{"ConfigHash":"h","Phases":[],"Schedule":{"Signal":"eval_loss","HigherIsBetter":false,"BudgetInFlops":true,"MinEpochs":2,"Patience":3,"Window":3,"ExpectedGain":0.5,"SampleFlops":[1,2]}}"""u8.ToArray(),
            "run-started.v1");
        Assert.Null(before.Schedule!.GateMetric);
        Assert.Null(before.Schedule.ProbeSteps); // nor probes: the rule it ran with
        Assert.True(double.IsNaN(before.Schedule.StartedAt));
        // the bytes a build before the scheduler wrote
        var old = (RunStarted)serializer.FromBinary(
            """{"ConfigHash":"h","Phases":[{"Index":0,"Method":"pool","Factor":1,"Pooling":"max","Epochs":2,"Lr":0.001,"WarmupSteps":0,"InputFrames":128}]}"""u8.ToArray(),
            "run-started.v1");
        Assert.Null(old.Schedule);
        Assert.Null(old.Averaging);
        Assert.Equal(2, old.Phases[0].Epochs);
        var averaging = new RunStarted("hash", adaptive.Phases, null, new WeightAveraging(5, 24));
        Assert.Equal(new WeightAveraging(5, 24), ((RunStarted)serializer.FromBinary(serializer.ToBinary(averaging), "run-started.v1")).Averaging);
    }

    [Fact]
    public void EveryControlMessageTypeHasAStableManifest()
    {
        var messageTypes = typeof(IControlMessage).Assembly.GetTypes()
            .Where(t => typeof(IControlMessage).IsAssignableFrom(t) && !t.IsInterface).ToHashSet();
        Assert.Equal(messageTypes.OrderBy(t => t.Name), MessageSerializer.Manifests.Keys.OrderBy(t => t.Name));
        var eventTypes = messageTypes.Where(t => typeof(ISupervisorEvent).IsAssignableFrom(t));
        Assert.Equal(eventTypes.OrderBy(t => t.Name), Examples.Select(e => e.GetType()).Distinct().OrderBy(t => t.Name));
        Assert.All(MessageSerializer.Manifests.Values, m => Assert.DoesNotContain("ActorTraining", m));
    }

    [Fact]
    public void EventsGoThroughTheBoundSerializerAndComeBackEqual()
    {
        var serialization = _system.Serialization;
        foreach (var e in Examples)
        {
            var serializer = serialization.FindSerializerFor(e);
            Assert.IsType<MessageSerializer>(serializer);
            var manifest = Serialization.ManifestFor(serializer, e);
            var bytes = serializer.ToBinary(e);
            var back = serialization.Deserialize(bytes, MessageSerializer.Id, manifest);
            Assert.Equal(e.GetType(), back.GetType());
            Assert.Equal(bytes, serializer.ToBinary(back)); // same content (records holding collections compare by reference)
        }
    }

    [Fact]
    public void AnUnknownManifestIsAClearError()
    {
        var serializer = (MessageSerializer)_system.Serialization.FindSerializerForType(typeof(PhaseCompleted));
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "phase-exploded.v9"));
        Assert.Contains("phase-exploded.v9", error.Message);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
