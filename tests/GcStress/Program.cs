using System.Diagnostics;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using TorchSharp;
using static TorchSharp.torch;

// usage: GcStress <workload[,workload…]> <seconds> [--seed N] [--no-pressure]
//   tensor-add  TorchSharp's own `a + b` (Tensor.add(target, 1) builds a temporary Scalar): the control, expected to fail
//   training    AST training steps (forward, loss, backward, the optimiser) and a checkpoint round trip
//   evaluation  AST evaluation batches and the metrics
//   fbank       fbank batches, padding, SpecAugment, normalisation
//   transfer    weight transfer between phases: positional-embedding interpolation, PI-resize of the patch kernel
//   ranks       data-parallel steps: two ranks on a loopback ring (one with no sample in every other step) and one alone
//   htsat       HTS-AT training steps, its framewise output, phase transfers
//   ssast       SSAST pretraining steps, evaluation, phase transfers
// Runs the workloads in turn until the time is up while GcPressure forces gen-0 collections and finalizers (not with
// --no-pressure). Every random input comes from the seed (printed; a new one each run unless given), so a failure replays.
// Exit 0: no failure, with one line "ok: <iterations> iterations, <collections> collections, <s> s, seed <n>".
// Exit 3: a failure, with one line "failed after <s> s (<iterations> iterations, seed <n>): workload <w>: <message>".
var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
int seedAt = Array.IndexOf(args, "--seed");
int seed = seedAt >= 0 && seedAt + 1 < args.Length && int.TryParse(args[seedAt + 1], out var given) ? given : Random.Shared.Next(1, int.MaxValue);
if (seedAt >= 0) positional.Remove(args[seedAt + 1]);
if (positional.Count != 2 || !double.TryParse(positional[1], System.Globalization.CultureInfo.InvariantCulture, out var seconds))
{
    Console.Error.WriteLine("usage: GcStress <tensor-add|training|evaluation|fbank|transfer|ranks|htsat|ssast>[,…] <seconds> [--seed N] [--no-pressure]");
    return 2;
}
torch.set_num_threads(1);
TorchRuntime.Configure();
torch.manual_seed(seed);
var clock = Stopwatch.StartNew();
long iterations = 0;
var work = positional[0].Split(',').Select(name => (Name: name, Step: Workload.Create(name, seed))).ToList();
using var pressure = args.Contains("--no-pressure") ? null : new GcPressure(TimeSpan.FromSeconds(seconds + 5));
string current = "";
try
{
    while (clock.Elapsed.TotalSeconds < seconds)
        foreach (var (name, step) in work)
        {
            current = name;
            step();
            iterations++;
        }
}
catch (Exception e)
{
    Console.WriteLine($"failed after {clock.Elapsed.TotalSeconds:F2} s ({iterations} iterations, seed {seed}): workload {current}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
    return 3;
}
Console.WriteLine($"ok: {iterations} iterations, {pressure?.Collections ?? 0} collections, {clock.Elapsed.TotalSeconds:F1} s, seed {seed}");
return 0;

static class Workload
{
    public static Action Create(string name, int seed) => name switch
    {
        "tensor-add" => TensorAdd(),
        "training" => Training(seed),
        "evaluation" => EvaluationBatches(),
        "fbank" => Fbank(seed),
        "transfer" => Transfer(),
        "ranks" => Ranks(),
        "htsat" => Htsat(),
        "ssast" => Ssast(),
        _ => throw new ArgumentException($"unknown workload '{name}'"),
    };

    static readonly AstConfig Model = new(64, 2, 2, 5, MelBins: 64, TargetLength: 256, FStride: 16, TStride: 16);

    static Action TensorAdd()
    {
        var a = ones(64);
        var b = ones(64);
        return () =>
        {
            using var c = a + b;
            if (c[0].item<float>() != 2f) throw new InvalidDataException($"1 + 1 = {c[0].item<float>()}");
        };
    }

    static Action Training(int seed)
    {
        var model = new AstModel(Model);
        var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
        var schedule = new LrSchedule(new LrScheduleSettings(1e-3, 10, 5, 1, 0.5));
        var rng = new Random(seed);
        var path = Path.Combine(Path.GetTempPath(), $"gcstress-{Environment.ProcessId}.ckpt");
        int step = 0;
        return () =>
        {
            using var scope = NewDisposeScope();
            var x = randn(4, Model.TargetLength, Model.MelBins);
            var y = zeros(4, Model.NumClasses);
            for (int i = 0; i < 4; i++) y[i, rng.Next(Model.NumClasses)] = tensor(1f);
            var loss = TrainingStep.Run(model, optimizer, schedule, x, y, LossKind.CrossEntropy);
            if (!float.IsFinite(loss)) throw new InvalidDataException($"loss {loss}");
            if (++step % 20 == 0)
            {
                var info = new TrainingCheckpointInfo(0, step, 0, 0, [0, 0, 0], TorchRng.Capture(), 1, 0, "stress");
                CheckpointFile.Save(path, model, optimizer, info);
                CheckpointFile.Load(path, model, optimizer);
                File.Delete(path);
            }
        };
    }

    static Action EvaluationBatches()
    {
        var model = new AstModel(Model);
        return () =>
        {
            using var scope = NewDisposeScope();
            var batches = new List<(Tensor, Tensor)>();
            for (int i = 0; i < 2; i++)
            {
                var y = zeros(4, Model.NumClasses);
                y[.., 0] = tensor(1f);
                batches.Add((randn(4, Model.TargetLength, Model.MelBins), y));
            }
            Evaluation.Run(model, batches, LossKind.BinaryCrossEntropy);
        };
    }

    static Action Ranks()
    {
        var models = Enumerable.Range(0, 3).Select(_ => TorchRng.Seeded(3, () => new AstModel(Model))).ToArray();
        var optimizers = models.Select(m => TrainingStep.CreateOptimizer(m, 1e-3)).ToArray();
        var ring = ActorTraining.Compute.Distributed.LocalRing.Create(2, TimeSpan.FromSeconds(60));
        var exchanges = new[] { new ActorTraining.Compute.Distributed.GradientExchange(models[0], ring[0]),
            new ActorTraining.Compute.Distributed.GradientExchange(models[1], ring[1]), new ActorTraining.Compute.Distributed.GradientExchange(models[2], null) };
        int step = 0;
        return () =>
        {
            step++;
            var shares = new[] { step % 2 == 0 ? 3 : 2, step % 2 == 0 ? 0 : 1, 3 }; // rank 1 has no sample every other step
            var done = Enumerable.Range(0, 3).Select(r => Task.Factory.StartNew(() =>
            {
                using var scope = NewDisposeScope();
                Tensor? x = shares[r] > 0 ? randn(shares[r], Model.TargetLength, Model.MelBins) : null;
                Tensor? y = shares[r] > 0 ? zeros(shares[r], Model.NumClasses).index_fill_(1, tensor(new long[] { 0 }), HeldScalars.One) : null;
                var totals = TrainingStep.RunRank(models[r], optimizers[r], x, y, LossKind.CrossEntropy, exchanges[r], 0, false);
                if (!double.IsFinite(totals.MeanLoss)) throw new InvalidDataException($"rank {r}: loss {totals.MeanLoss}");
            }, TaskCreationOptions.LongRunning)).ToArray();
            Task.WaitAll(done);
        };
    }

    /// <summary>HTS-AT training steps (window attention, shift masks, patch merging, the token-semantic head), its framewise
    /// output and a phase transfer to C = 2 and back.</summary>
    static Action Htsat()
    {
        var config = new HtsatConfig(5, MelBins: 64, TargetLength: 256, EmbedDim: 8, Depths: [2, 2, 2, 2], Heads: [1, 2, 2, 4]);
        var model = new HtsatModel(config);
        var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
        var schedule = new LrSchedule(new LrScheduleSettings(1e-3, 10, 5, 1, 0.5));
        int step = 0;
        return () =>
        {
            using var scope = NewDisposeScope();
            var x = randn(4, config.TargetLength, config.MelBins);
            var y = zeros(4, config.NumClasses).index_fill_(1, tensor(new long[] { 1 }), HeldScalars.One);
            var loss = TrainingStep.Run(model, optimizer, schedule, x, y, LossKind.CrossEntropy);
            if (!float.IsFinite(loss)) throw new InvalidDataException($"loss {loss}");
            using (no_grad()) model.Framewise(x);
            if (++step % 10 == 0)
            {
                using var coarse = PhaseTransfer.Transfer(model, (ModelGeometry)(config with { TargetLength = 128 }));
                using var back = PhaseTransfer.Transfer(coarse, (ModelGeometry)config);
            }
        };
    }

    /// <summary>SSAST pretraining as a rank runs it: masks, both pretext passes, the summed loss through RunRank (a
    /// world of one), an evaluation batch, and every tenth step a pool phase transfer there and back.</summary>
    static Action Ssast()
    {
        var config = new AstConfig(32, 2, 2, 5, MelBins: 64, TargetLength: 128, PatchF: 16, PatchT: 16, FStride: 16, TStride: 16);
        var model = new SsastModel(config);
        var optimizer = TrainingStep.CreateOptimizer(model, 1e-3);
        var exchange = new ActorTraining.Compute.Distributed.GradientExchange(model, null);
        int step = 0;
        return () =>
        {
            using var scope = NewDisposeScope();
            var x = randn(4, config.TargetLength, config.MelBins);
            var seeds = Enumerable.Range(0, 4).Select(i => (4 * step + i, 4 * step + i + 100_000)).ToList();
            var (d, g) = model.Masking.Masks(config, seeds, RankDevice.Cpu);
            var totals = TrainingStep.RunRank(model, optimizer, 4, () => SsastPretext.Run(model, x, d, g).Loss.sum(), exchange, 0, false);
            if (!double.IsFinite(totals.MeanLoss)) throw new InvalidDataException($"loss {totals.MeanLoss}");
            var (rows, lossSum) = Evaluation.Score(model, x, d, g);
            if (rows.Length != 12 || !double.IsFinite(lossSum)) throw new InvalidDataException($"{rows.Length} scores, loss {lossSum}");
            if (++step % 10 == 0)
            {
                using var coarse = PhaseTransfer.Transfer(model, new ModelGeometry(config with { TargetLength = 64 }, null, model.Masking));
                using var back = PhaseTransfer.Transfer(coarse, model.Geometry);
            }
        };
    }

    static Action Transfer()
    {
        var coarse = Model with { TargetLength = 128, PatchT = 32, TStride = 32 }; // a patch phase at C = 2
        var source = new AstModel(coarse);
        return () =>
        {
            using var fine = PhaseTransfer.Transfer(source, Model);
            using var back = PhaseTransfer.Transfer(fine, coarse);
        };
    }

    static Action Fbank(int seed)
    {
        var extractor = new FbankExtractor(new FbankOptions(FrameShiftMs: 10, MelBins: 64));
        var rng = new Random(seed + 1);
        return () =>
        {
            using var scope = NewDisposeScope();
            var waves = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 16000).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToList();
            foreach (var f in waves.Select(extractor.Compute))
            {
                var x = AstPreprocessing.PadOrCut(f, 256);
                x = AstPreprocessing.SpecAugment(x, 8, 16, rng);
                AstPreprocessing.Normalize(x, -4.27, 4.57);
            }
        };
    }
}
