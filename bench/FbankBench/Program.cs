using System.Diagnostics;
using System.Globalization;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Runtime;
using TorchSharp;

// FbankBench <clip-folder> <threads> <seconds> [batch] [f32|f64]
// Decodes every *.wav once (not timed), then computes AST fbank (10 ms, 128 bins) over the clips repeatedly for at
// least <seconds> s with libtorch limited to <threads> threads. Prints one line like torchaudio_fbank.py does.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: FbankBench <clip-folder> <threads> <seconds> [batch] [f32|f64]");
    return 2;
}
var folder = args[0];
int threads = int.Parse(args[1], CultureInfo.InvariantCulture);
double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
int batch = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
var precision = args.Length > 4 ? args[4] : "f32";
torch.set_num_threads(threads);

var clips = Directory.GetFiles(folder, "*.wav").Order(StringComparer.Ordinal).Select(p => AudioDecoder.Decode(p)).ToList();
double audioSeconds = clips.Sum(c => c.Length) / 16000.0;
var extractor = new FbankExtractor(new FbankOptions(), precision == "f64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32);

void Pass()
{
    for (int i = 0; i < clips.Count; i += batch)
    {
        using var scope = torch.NewDisposeScope();
        if (batch == 1) extractor.Compute(clips[i]);
        else extractor.ComputeBatch(clips.GetRange(i, Math.Min(batch, clips.Count - i)));
    }
}

Pass(); // warm-up: native library load, allocator, FFT plans
var sw = Stopwatch.StartNew();
int passes = 0;
while (sw.Elapsed.TotalSeconds < seconds) { Pass(); passes++; }
double elapsed = sw.Elapsed.TotalSeconds;
double clipsPerSecond = passes * clips.Count / elapsed, audioPerSecond = passes * audioSeconds / elapsed;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"csharp-torchsharp batch={batch} precision={precision} threads={threads} clips={clips.Count} passes={passes} elapsed={elapsed:F2}s " +
    $"clips/s={clipsPerSecond:F1} audio-s/s={audioPerSecond:F0} per-core clips/s={clipsPerSecond / threads:F1} audio-s/s={audioPerSecond / threads:F0}"));
Console.WriteLine($"# {TorchRuntime.Describe()}");
return 0;
