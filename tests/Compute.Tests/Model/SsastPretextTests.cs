using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Tests.Distributed;
using ActorTraining.Compute.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Model;

/// <summary>
/// SSAST pretraining as the trainer runs it (training.objective = ssast-pretrain): masks from each clip's seed, the
/// masking kind by patch shape, the summed per-clip loss that makes ranks train what one rank trains, its FLOPs, the
/// phase transfer, its checkpoints, and a supervised run starting from one (the reference's fine-tuning stage).
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class SsastPretextTests(ITestOutputHelper output) : IDisposable
{
    // 32 mel × 64 frames in 16 × 16 patches: a 2 × 4 grid of 8 patches
    static readonly AstConfig Patches = new(64, 2, 2, 3, MelBins: 32, TargetLength: 64, PatchF: 16, PatchT: 16, FStride: 16, TStride: 16);
    // frame-based: a patch as tall as the spectrogram, 2 frames wide: 32 patches
    static readonly AstConfig Frames = new(64, 2, 2, 3, MelBins: 32, TargetLength: 64, PatchF: 32, PatchT: 2, FStride: 32, TStride: 2);
    static readonly SsastPretext Pretext = SsastPretext.Reference;
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ssast-pretext-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void EachClipsMasksComeFromItsSeedByClustersForPatchesAndByFramesForFrameModels()
    {
        Assert.Equal(6, Pretext.MaskCount(Patches));     // round(0.78125 · 8) = 6 = patches − 2
        Assert.Equal(25, Pretext.MaskCount(Frames));     // round(0.78125 · 32)
        Assert.Equal(SsastMasks.Clusters(8, 4, 6, new Random(11)), Pretext.MaskOf(Patches, 11));
        Assert.Equal(SsastMasks.Frames(32, 25, new Random(11)), Pretext.MaskOf(Frames, 11));
        Assert.NotEqual(Pretext.MaskOf(Frames, 11), Pretext.MaskOf(Frames, 12));

        using var scope = NewDisposeScope();
        var (d, g) = Pretext.Masks(Frames, [(1, 2), (3, 4), (5, 6)], RankDevice.Cpu);
        Assert.Equal(new long[] { 3, 25 }, d.shape);
        Assert.Equal(Pretext.MaskOf(Frames, 3), d[1].data<long>().ToArray());
        Assert.Equal(Pretext.MaskOf(Frames, 6), g[2].data<long>().ToArray());
    }

    [Fact]
    public void FlopsCountBothEncoderPassesAndTheHeadsOnTheMaskedPatches()
    {
        // by hand: 8 patches, 10 tokens, D 64, P 256, M 6. Encoder: patch embedding 2·8·64·256 = 262 144, per block
        // 24·10·64² + 4·10²·64 = 1 008 640, two blocks: 2 279 424. Heads 2 · 2·6·(64² + 64·256) = 491 520; InfoNCE 2·6²·256 = 18 432.
        var (forward, backward) = FlopCounter.PerSample(new ModelGeometry(Patches, null, Pretext));
        Assert.Equal(2 * 2_279_424.0 + 491_520 + 18_432, forward);
        Assert.Equal(2 * forward, backward);
        // a coarse phase (pool 2: 4 patches) masks fewer: round(0.78 · 4) = 3, at most 4 − 2 = 2 (the cluster sampler's bound)
        Assert.Equal(2, Pretext.MaskCount(Patches with { TargetLength = 32 }));
    }

    /// <summary>The property data parallelism rests on: each clip's loss depends on that clip (and its masks) only, so the
    /// losses of a batch's halves are the batch's losses.</summary>
    [Fact]
    public void ABatchsPerClipLossesAreItsHalvesLosses()
    {
        using var scope = NewDisposeScope();
        using var model = TorchRng.Seeded(3, () => new SsastModel(Frames));
        var x = TorchRng.Seeded(4, () => randn(4, 64, 32));
        (int, int)[] seeds = [(1, 2), (3, 4), (5, 6), (7, 8)];
        var (d, g) = Pretext.Masks(Frames, seeds, RankDevice.Cpu);
        using var noGrad = no_grad();
        model.eval();
        var whole = SsastPretext.Run(model, x, d, g).Loss;
        var (d1, g1) = Pretext.Masks(Frames, seeds[..2], RankDevice.Cpu);
        var (d2, g2) = Pretext.Masks(Frames, seeds[2..], RankDevice.Cpu);
        var halves = cat([SsastPretext.Run(model, x[..2], d1, g1).Loss, SsastPretext.Run(model, x[2..], d2, g2).Loss]);
        var difference = (whole - halves).abs().max().item<float>();
        output.WriteLine($"per-clip losses {string.Join(", ", whole.data<float>().ToArray())}; max |Δ| over halves {difference:E2}");
        Assert.True(difference <= 1e-5, $"{difference}");
    }

    /// <summary>Every weight but the discriminative head's last bias. InfoNCE scores each masked patch against every
    /// prediction and normalises over the predictions, so a bias added to all of them cancels (in the reference too): its
    /// gradient is rounding noise (‖g‖ ≈ 5e-7 against 1e-2…1 for the others), whose sign depends on the summation order,
    /// and Adam turns that into full lr-sized steps — a drift that changes no loss and says nothing about the split.</summary>
    static float[] Weights(SsastModel model) => model.named_parameters().Where(p => p.name != "cpredlayer.2.bias")
        .SelectMany(p => { using var c = p.parameter.detach().reshape(-1); return c.data<float>().ToArray(); }).ToArray();

    /// <summary>Two ranks joined by a real loopback ring, each summing its share's pretext losses, train the replica one
    /// rank trains on the whole batch (within 1e-5 relative over 8 steps), and stay bit-identical to each other. At lr
    /// 1e-4: InfoNCE leaves more directions nearly flat than a classifier (the key biases, the discriminative head's
    /// biases), whose gradients are rounding noise that Adam turns into lr-sized steps; at 1e-3 those alone drift the
    /// replicas 2.3e-3 apart in 8 steps (measured; the first step's gradients agree to 1e-7 per parameter).</summary>
    [Fact]
    public void TwoRanksPretrainWhatOneRankPretrains()
    {
        const int Steps = 8, Batch = 6;
        float[][] Train(int world)
        {
            var models = Enumerable.Range(0, world).Select(_ => TorchRng.Seeded(7, () => new SsastModel(Frames))).ToArray();
            var optimizers = models.Select(m => TrainingStep.CreateOptimizer(m, 1e-4)).ToArray();
            var ring = world > 1 ? LoopbackRing.Create(world) : null;
            var exchanges = models.Select((m, i) => new GradientExchange(m, ring?[i])).ToArray();
            var errors = new Exception?[world];
            var threads = Enumerable.Range(0, world).Select(rank => new Thread(() =>
            {
                try
                {
                    for (int step = 0; step < Steps; step++)
                    {
                        var random = new Random(100 + step);
                        var values = Enumerable.Range(0, Batch * 64 * 32).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                        var (offset, count) = new GlobalBatch(Batch, rank, world).Share();
                        using var scope = NewDisposeScope();
                        var x = RankDevice.Cpu.Tensor(values[(offset * 64 * 32)..((offset + count) * 64 * 32)], [count, 64, 32]);
                        var seeds = Enumerable.Range(offset, count).Select(p => (1000 * step + 2 * p, 1000 * step + 2 * p + 1)).ToList();
                        TrainingStep.RunRank(models[rank], optimizers[rank], count, () =>
                        {
                            var (d, g) = Pretext.Masks(Frames, seeds, RankDevice.Cpu);
                            return SsastPretext.Run(models[rank], x, d, g).Loss.sum();
                        }, exchanges[rank], 0, false);
                    }
                }
                catch (Exception e) { errors[rank] = e; }
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(3)), "a rank did not finish");
            Assert.All(errors, e => Assert.Null(e));
            var weights = models.Select(Weights).ToArray();
            foreach (var e in exchanges) e.Dispose();
            foreach (var r in ring ?? []) r.Dispose();
            foreach (var o in optimizers) o.Dispose();
            foreach (var m in models) m.Dispose();
            return weights;
        }

        float[] start;
        using (var initial = TorchRng.Seeded(7, () => new SsastModel(Frames))) start = Weights(initial);
        var one = Train(1)[0];
        var two = Train(2);
        Assert.Equal(two[0], two[1]);
        double Norm(IEnumerable<double> v) => Math.Sqrt(v.Sum(a => a * a));
        double drift = Norm(one.Zip(two[0], (a, b) => (double)a - b)) / Norm(one.Select(a => (double)a));
        double moved = Norm(one.Zip(start, (a, b) => (double)a - b)) / Norm(start.Select(a => (double)a));
        output.WriteLine($"two ranks vs one: ‖Δw‖/‖w‖ = {drift:E2}; training moved the weights {moved:E2}");
        Assert.True(moved > 1e-3, "the steps hardly moved the weights, so the comparison says little");
        Assert.True(drift <= 1e-5, $"two ranks drift {drift:E2} relative from one");
    }

    [Fact]
    public void APoolPhaseCarriesHeadsAndMaskEmbeddingOverAndInterpolatesThePositionsAPatchPhaseIsRefused()
    {
        using var scope = NewDisposeScope();
        var fine = new ModelGeometry(Patches, null, Pretext);
        var coarse = new ModelGeometry(Patches with { TargetLength = 32 }, null, Pretext);
        using var source = TorchRng.Seeded(5, () => (SsastModel)AudioModel.Create(coarse));
        using var moved = PhaseTransfer.Transfer(source, fine);
        Assert.Equal(fine, moved.Geometry);
        var before = source.state_dict();
        var after = moved.state_dict();
        foreach (var key in after.Keys.Where(k => k != "v.pos_embed"))
            Assert.True(after[key].BitEqual(before[key]), key);
        Assert.True(after["v.pos_embed"].BitEqual(PhaseTransfer.InterpolatePosEmbed(before["v.pos_embed"], coarse.Ast!, fine.Ast!)));
        var patchPhase = new ModelGeometry(Patches with { PatchT = 32, TStride = 32 }, null, Pretext);
        Assert.Contains("PatchT", Assert.Throws<ArgumentException>(() => PhaseTransfer.Transfer(moved, patchPhase)).Message);
        Assert.Throws<ArgumentException>(() => PhaseTransfer.Transfer(moved, (ModelGeometry)Patches)); // into a classifier: no
    }

    [Fact]
    public void APretrainingCheckpointSaysWhatItIsAndStartsASupervisedRunWithItsEncoder()
    {
        using var scope = NewDisposeScope();
        var masking = new SsastPretext(0.5);
        using var pretrained = TorchRng.Seeded(8, () => new SsastModel(Patches, masking));
        var path = Path.Combine(_dir.FullName, "ssast.ckpt");
        CheckpointFile.Save(path, pretrained, TrainingStep.CreateOptimizer(pretrained, 1e-4), new TrainingCheckpointInfo(0, 1, 0, 0, [0, 0, 0], TorchRng.Capture(), 1, 0, "ssast"));
        var header = CheckpointFile.ReadHeader(path);
        Assert.Equal(new ModelGeometry(Patches, null, masking), header.Model);
        Assert.Equal("SSAST", header.Model.Name);
        using (var classifier = new AstModel(Patches))
            Assert.Contains("SSAST pretraining", Assert.Throws<ArgumentException>(() => CheckpointFile.Load(path, classifier, null)).Message);

        // fine-tuning as the reference: overlapping patches (stride 8: a 3 × 7 grid), the encoder taken, positions adapted
        var run = Patches with { FStride = 8, TStride = 8 };
        using var model = TorchRng.Seeded(9, () => new AstModel(run));
        var head = model.state_dict()["mlp_head.1.weight"].clone();
        var notes = PretrainedStart.Load(model, ModelInit.Parse($"checkpoint:{path}", _dir.FullName)!);
        output.WriteLine(string.Join("; ", notes));
        Assert.Contains(notes, n => n.Contains("no AST head"));
        Assert.True(model.state_dict()["mlp_head.1.weight"].BitEqual(head));
        var theirs = pretrained.state_dict();
        foreach (var (key, value) in model.state_dict().Where(kv => kv.Key.StartsWith("v.", StringComparison.Ordinal) && kv.Key != "v.pos_embed"))
            Assert.True(value.BitEqual(theirs[key]), key);
        // 2 × 4 → 3 × 7: both axes grow, so bilinear, time first (ast_models.py's order)
        var grid = theirs["v.pos_embed"][.., 2..].transpose(1, 2).reshape(1, 64, 2, 4);
        grid = nn.functional.interpolate(grid, [2, 7], mode: InterpolationMode.Bilinear, align_corners: false);
        grid = nn.functional.interpolate(grid, [3, 7], mode: InterpolationMode.Bilinear, align_corners: false);
        var expected = cat([theirs["v.pos_embed"][.., ..2], grid.reshape(1, 64, 21).transpose(1, 2)], dim: 1);
        Assert.True(model.state_dict()["v.pos_embed"].BitEqual(expected));
    }
}
