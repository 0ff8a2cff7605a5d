using System.Text.Json;
using ActorTraining.StepBench;

// Benchmark driver for bench/run-all.sh: `step` times our training step on pre-made tensors (pairs with
// bench/pytorch/ast_step.py). Prints one JSON line; --out FILE writes it there too. (The front-end benchmark is
// bench/FbankBench + bench/fbank/.)
const string usage = "usage: StepBench step [--dim 192 --depth 4 --heads 3 --classes 10 --mel 128 --frames 256 --patch-f 16 --patch-t 16 " +
                     "--fstride 16 --tstride 16 --batch 8 --threads N --warmup 3 --steps 20 --lr 2.5e-4 --loss bce|ce --seed 0 --out F]";
if (args.Length == 0 || args[0] is "-h" or "--help") { Console.Error.WriteLine(usage); return args.Length == 0 ? 2 : 0; }
try
{
    if (args[0] != "step") throw new ArgumentException($"unknown mode '{args[0]}' (step)");
    var flags = new BenchArgs(args.Skip(1));
    var json = JsonSerializer.Serialize(StepTimer.Run(flags));
    Console.WriteLine(json);
    var outIndex = Array.IndexOf(args, "--out");
    if (outIndex > 0 && outIndex + 1 < args.Length) File.WriteAllText(args[outIndex + 1], json + "\n");
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"StepBench: {e.Message}\n{usage}");
    return 2;
}
