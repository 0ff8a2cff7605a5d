using ActorTraining.Compute.Training;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Checkpoints;

[Collection(TorchGlobalRngCollection.Name)]
public sealed class CheckpointFileTests : IDisposable
{
    private static readonly AstConfig Config = new(64, 2, 2, 4, MelBins: 32, TargetLength: 64, FStride: 16, TStride: 16);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ckpt-");
    private readonly Tensor _x, _y;

    public CheckpointFileTests()
    {
        torch.manual_seed(41);
        _x = randn(4, 64, 32);
        _y = tensor(new long[] { 0, 1, 2, 3 });
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private static AdamOptimizer Adam(AstModel model) => TrainingStep.CreateOptimizer(model, 1e-3);

    private void Step(AstModel model, AdamOptimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        nn.functional.cross_entropy(model.forward(_x), _y).backward();
        optimizer.Step();
    }

    private static TrainingCheckpointInfo Info() => new(PhaseIndex: 1, Step: 3, Epoch: 2, DataPosition: 48,
        LrScheduleState: new[] { 1e-3, 0.5 }, TorchRngState: TorchRng.Capture(), RandomSeed: 7, RandomCounter: 99, ConfigHash: "abc123");

    private (AstModel Model, AdamOptimizer Optimizer, string Path, string Sha) SavedAfterThreeSteps()
    {
        var model = new AstModel(Config);
        var optimizer = Adam(model);
        for (int i = 0; i < 3; i++) Step(model, optimizer);
        var path = Path.Combine(_dir.FullName, "phase1", "step3.ckpt");
        var sha = CheckpointFile.Save(path, model, optimizer, Info(), "{\"manifest\": 1}");
        return (model, optimizer, path, sha);
    }

    [Fact]
    public void RoundTripGivesTheSameLogitsAndTheSameNextOptimizerStep()
    {
        var (model, optimizer, path, sha) = SavedAfterThreeSteps();
        Assert.Matches("^[0-9a-f]{64}$", sha);
        Assert.False(File.Exists(path + ".tmp"));

        var header = CheckpointFile.ReadHeader(path);
        Assert.Equal(Config, header.Model);
        Assert.Equal(sha, header.Sha256);
        Assert.Equal((1, 3L, 2, 48L, 7, 99L, "abc123"), (header.Info.PhaseIndex, header.Info.Step, header.Info.Epoch,
            header.Info.DataPosition, header.Info.RandomSeed, header.Info.RandomCounter, header.Info.ConfigHash));
        Assert.Equal(new[] { 1e-3, 0.5 }, header.Info.LrScheduleState);
        Assert.Equal(Info().TorchRngState.Length, header.Info.TorchRngState.Length);
        Assert.Equal("{\"manifest\": 1}", header.Manifest);

        torch.manual_seed(999); // a differently initialised model and a fresh optimiser
        using var restored = new AstModel(Config);
        var restoredOptimizer = Adam(restored);
        CheckpointFile.Load(path, restored, restoredOptimizer);
        using (no_grad())
            Assert.True(model.forward(_x).BitEqual(restored.forward(_x)));

        // Adam's moments and step count came back: one more step moves both models identically.
        Step(model, optimizer);
        Step(restored, restoredOptimizer);
        foreach (var (key, value) in model.state_dict())
            Assert.True(value.BitEqual(restored.state_dict()[key]), $"{key} differs after the next step");
        model.Dispose();
    }

    [Fact]
    public void TorchRngStateRestores()
    {
        torch.manual_seed(5);
        var state = TorchRng.Capture();
        var first = randn(8);
        TorchRng.Restore(state);
        Assert.True(first.BitEqual(randn(8)));
    }

    [Fact]
    public void TruncatedFileIsRejectedNamingIt()
    {
        var (model, optimizer, path, _) = SavedAfterThreeSteps();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Load(path, model, optimizer));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message);
        File.WriteAllBytes(path, bytes[..10]);
        Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.ReadHeader(path));
        model.Dispose();
    }

    [Fact]
    public void FlippedBitIsRejected()
    {
        var (model, optimizer, path, _) = SavedAfterThreeSteps();
        CheckpointFile.ReadHeader(path); // verified once in this process: a rewrite since must be verified again
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 3] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Load(path, model, optimizer));
        Assert.Contains("SHA-256 mismatch", error.Message);
        Assert.Contains(path, error.Message);
        model.Dispose();
    }

    [Fact]
    public void ModelOfAnotherGeometryIsRefused()
    {
        var (model, optimizer, path, _) = SavedAfterThreeSteps();
        using var other = new AstModel(Config with { TargetLength = 32 });
        var error = Assert.Throws<ArgumentException>(() => CheckpointFile.Load(path, other, Adam(other)));
        Assert.Contains(path, error.Message);
        model.Dispose();
    }
}
