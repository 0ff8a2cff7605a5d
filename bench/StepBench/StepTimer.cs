using System.Diagnostics;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.StepBench;

/// <summary>`step`: times our training step — AstModel + TrainingStep.Run, exactly what the trainer runs — on inputs
/// made once. Same flags, defaults and JSON fields as bench/pytorch/ast_step.py, so the two sit side by side.</summary>
public static class StepTimer
{
    public static Dictionary<string, object?> Run(BenchArgs args)
    {
        int dim = args.Int("dim", 192), depth = args.Int("depth", 4), heads = args.Int("heads", 3);
        int classes = args.Int("classes", 10), mel = args.Int("mel", 128), frames = args.Int("frames", 256);
        int patchF = args.Int("patch-f", 16), patchT = args.Int("patch-t", 16);
        int fstride = args.Int("fstride", 16), tstride = args.Int("tstride", 16), batch = args.Int("batch", 8);
        int threads = args.Int("threads", Environment.ProcessorCount), warmup = args.Int("warmup", 3), steps = args.Int("steps", 20);
        double lr = args.Double("lr", 2.5e-4);
        string lossName = args.String("loss", "bce");
        int seed = args.Int("seed", 0);
        args.String("out", "");
        args.RejectUnknown();
        var loss = lossName switch
        {
            "bce" => LossKind.BinaryCrossEntropy,
            "ce" => LossKind.CrossEntropy,
            _ => throw new ArgumentException($"--loss must be bce or ce, got '{lossName}'"),
        };
        if (steps < 1 || warmup < 0 || threads < 1 || batch < 1) throw new ArgumentException("--steps, --threads and --batch must be >= 1 and --warmup >= 0");

        torch.set_num_threads(threads);
        torch.manual_seed(seed);
        var config = new AstConfig(dim, depth, heads, classes, mel, frames, patchF, patchT, fstride, tstride);
        using var model = new AstModel(config);
        using var optimizer = TrainingStep.CreateOptimizer(model, lr);
        using var x = randn(batch, frames, mel) * 0.5;
        using var y = nn.functional.one_hot(randint(0, classes, batch, dtype: int64), classes).to_type(float32);

        for (int i = 0; i < warmup; i++) TrainingStep.Run(model, optimizer, x, y, loss);
        var total = new List<double>();
        float lastLoss = 0;
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            lastLoss = TrainingStep.Run(model, optimizer, x, y, loss);
            total.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        // Where the time goes: the same step spelled out, timed per part (a second series, after the headline one).
        var forward = new List<double>();
        var backward = new List<double>();
        var optimise = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            model.train();
            optimizer.ZeroGrad();
            var value = TrainingStep.Loss(model.forward(x), y, loss);
            long t1 = Stopwatch.GetTimestamp();
            value.backward();
            long t2 = Stopwatch.GetTimestamp();
            optimizer.Step();
            long t3 = Stopwatch.GetTimestamp();
            forward.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            backward.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            optimise.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
        }

        return new Dictionary<string, object?>
        {
            ["bench"] = "ours_ast_step",
            ["config"] = new Dictionary<string, object>
            {
                ["dim"] = dim, ["depth"] = depth, ["heads"] = heads, ["classes"] = classes, ["mel"] = mel, ["frames"] = frames,
                ["patch_f"] = patchF, ["patch_t"] = patchT, ["fstride"] = fstride, ["tstride"] = tstride, ["batch"] = batch,
                ["threads"] = threads, ["warmup"] = warmup, ["steps"] = steps, ["loss"] = lossName, ["seed"] = seed,
            },
            ["patches"] = config.NumPatches,
            ["parameters"] = model.parameters().Sum(p => p.numel()),
            ["forward_flops_per_sample"] = FlopCounter.PerSample(config).Forward,
            ["step_ms"] = new Dictionary<string, object>
            {
                ["median"] = Stats.Median(total), ["mean"] = total.Average(), ["min"] = total.Min(), ["max"] = total.Max(),
                ["all"] = total.Select(t => Math.Round(t, 3)).ToArray(),
            },
            ["forward_ms_median"] = Stats.Median(forward),
            ["backward_ms_median"] = Stats.Median(backward),
            ["optimizer_ms_median"] = Stats.Median(optimise),
            ["samples_per_s"] = batch * 1e3 / Stats.Median(total),
            ["final_loss"] = lastLoss,
            ["runtime"] = RuntimeFacts.Collect(),
        };
    }
}
