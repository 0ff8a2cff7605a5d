using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Tests.Model;
using ActorTraining.Compute.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Checkpoints;

[Collection(TorchGlobalRngCollection.Name)]
public sealed class WeightAverageTests : IDisposable
{
    private static readonly AstConfig Config = new(64, 2, 2, 4, MelBins: 32, TargetLength: 64, FStride: 16, TStride: 16);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wa-");
    private int _saved;

    public void Dispose() => _dir.Delete(recursive: true);

    private static TrainingCheckpointInfo Info(int epoch) => new(PhaseIndex: 2, Step: 10L * epoch, Epoch: epoch, DataPosition: 0,
        LrScheduleState: [1e-3], TorchRngState: TorchRng.Capture(), RandomSeed: 7, RandomCounter: epoch, ConfigHash: "h");

    /// <summary>Checkpoints of models drawn from different seeds, each after one optimiser step (so each has optimiser state).</summary>
    private List<(string Path, string? Sha256)> Saved(int count, AstConfig? config = null)
    {
        var files = new List<(string, string?)>();
        for (int i = 0; i < count; i++)
        {
            torch.manual_seed(100 + i);
            using var model = new AstModel(config ?? Config);
            var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
            using (var scope = NewDisposeScope())
            {
                optimizer.ZeroGrad();
                nn.functional.cross_entropy(model.forward(randn(2, (config ?? Config).TargetLength, (config ?? Config).MelBins)), tensor(new long[] { 0, 1 })).backward();
                optimizer.Step();
            }
            var path = Path.Combine(_dir.FullName, $"c{_saved++}-e{i}.ckpt");
            files.Add((path, CheckpointFile.Save(path, model, optimizer, Info(i), $"{{\"epoch\":{i}}}")));
        }
        return files;
    }

    private static Dictionary<string, float[]> Weights(string path)
    {
        using var model = new AstModel(Config);
        CheckpointFile.Load(path, model, null);
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
    }

    [Fact]
    public void TheAverageIsTheReferencesKeyByKeyMeanAndLoadsAsACheckpointOfTheLastInputsHead()
    {
        var inputs = Saved(3);
        var output = Path.Combine(_dir.FullName, "averaged.ckpt");
        var sha = WeightAverage.Write(inputs, output);
        Assert.False(File.Exists(output + ".tmp"));

        var header = CheckpointFile.ReadHeader(output);
        Assert.Equal(sha, header.Sha256);
        Assert.Equal(Config, header.Model);
        Assert.Equal(2, header.Info.Epoch);             // the last input's position and manifest
        Assert.Equal("{\"epoch\":2}", header.Manifest);

        // the reference's validate_wa: sdA[key] = sdA[key] + sdB[key] in float32, then / float(count)
        var each = inputs.Select(i => Weights(i.Path)).ToList();
        var averaged = Weights(output);
        Assert.Equal(each[0].Keys.Order(), averaged.Keys.Order());
        double worst = 0;
        foreach (var (key, values) in averaged)
            for (int k = 0; k < values.Length; k++)
            {
                float sum = each[0][key][k];
                for (int i = 1; i < each.Count; i++) sum += each[i][key][k];
                float reference = sum / 3f;
                worst = Math.Max(worst, Math.Abs(values[k] - reference) / (Math.Abs(reference) + 1e-3));
            }
        Assert.True(worst < 1e-6, $"relative difference to the float32 reference mean {worst:E2}");
        // and it is a mean, not one of the inputs
        Assert.NotEqual(each[2]["mlp_head.1.weight"], averaged["mlp_head.1.weight"]);
        Assert.NotEqual(each[0]["mlp_head.1.weight"], averaged["mlp_head.1.weight"]);
    }

    [Fact]
    public void TheAverageHasNoOptimiserStateSoItCannotBeTakenForATrainingState()
    {
        var inputs = Saved(2);
        var output = Path.Combine(_dir.FullName, "averaged.ckpt");
        WeightAverage.Write(inputs, output);
        using var model = new AstModel(Config);
        var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
        var error = Assert.Throws<ArgumentException>(() => CheckpointFile.Load(output, model, optimizer));
        Assert.Contains("optimiser", error.Message);
        CheckpointFile.Load(output, model, null);
    }

    [Fact]
    public void ACorruptOrReplacedInputOrOneOfAnotherModelIsRefusedByNameAndNothingIsWritten()
    {
        var inputs = Saved(3);
        var output = Path.Combine(_dir.FullName, "averaged.ckpt");

        var replaced = inputs.ToList();
        replaced[1] = (inputs[1].Path, new string('0', 64));
        var committed = Assert.Throws<CheckpointCorruptException>(() => WeightAverage.Write(replaced, output));
        Assert.Equal(inputs[1].Path, committed.FilePath);
        Assert.Contains("committed", committed.Message);

        var bytes = File.ReadAllBytes(inputs[2].Path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(inputs[2].Path, bytes);
        var corrupt = Assert.Throws<CheckpointCorruptException>(() => WeightAverage.Write(inputs, output));
        Assert.Equal(inputs[2].Path, corrupt.FilePath);

        var other = Saved(1, Config with { EmbedDim = 32 });
        var mixed = Assert.Throws<ArgumentException>(() => WeightAverage.Write([inputs[0], other[0]], output));
        Assert.Contains(inputs[0].Path, mixed.Message);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".tmp"));
    }
}
