using System.Diagnostics;
using System.Globalization;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Runtime;
using TorchSharp;

// FbankBench <clip-folder> <workers> <seconds> [f32|f64]
// Decodes every *.wav once (not timed), then computes AST fbank (10 ms, 128 bins) over the clips repeatedly for at
// least <seconds> s on <workers> threads at once, each taking whole clips, as the pipeline's clip workers do (the
// extractor is managed code on the caller's thread; libtorch's pool is not used). Each clip ends as the float32
// tensor FbankExtractor.Compute returns. Prints one line like torchaudio_fbank.py does.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: FbankBench <clip-folder> <workers> <seconds> [f32|f64]");
    return 2;
}
var folder = args[0];
int workers = int.Parse(args[1], CultureInfo.InvariantCulture);
double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
var precision = args.Length > 3 ? args[3] : "f32";

var clips = Directory.GetFiles(folder, "*.wav").Order(StringComparer.Ordinal).Select(p => AudioDecoder.Decode(p)).ToList();
double audioSeconds = clips.Sum(c => c.Length) / 16000.0;
var extractor = new FbankExtractor(new FbankOptions(), precision == "f64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32);

void Pass() => Parallel.ForEach(clips, new ParallelOptions { MaxDegreeOfParallelism = workers }, clip =>
{
    using var features = extractor.Compute(clip);
});

Pass(); // warm-up: JIT tiers, tables
var sw = Stopwatch.StartNew();
int passes = 0;
while (sw.Elapsed.TotalSeconds < seconds) { Pass(); passes++; }
double elapsed = sw.Elapsed.TotalSeconds;
double clipsPerSecond = passes * clips.Count / elapsed, audioPerSecond = passes * audioSeconds / elapsed;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"csharp-managed precision={precision} threads={workers} clips={clips.Count} passes={passes} elapsed={elapsed:F2}s " +
    $"clips/s={clipsPerSecond:F1} audio-s/s={audioPerSecond:F0} per-core clips/s={clipsPerSecond / workers:F1} audio-s/s={audioPerSecond / workers:F0}"));
Console.WriteLine($"# managed SIMD fbank (Vector256 hardware-accelerated: {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}), {Environment.ProcessorCount} cores; {TorchRuntime.Describe()} (tensor wrapper only)");
return 0;
