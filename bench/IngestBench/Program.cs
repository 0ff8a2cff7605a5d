using System.Diagnostics;
using System.Globalization;
using ActorTraining.Compute.Audio;

// IngestBench <clip-folder> <extension> <seconds>
// Decodes every *.<extension> of the folder to 16 kHz mono (what the pipeline does before fbank: container, codec,
// downmix, resampling) on one thread, in passes for at least <seconds> s after one warm-up pass. One line, like
// torchaudio_load.py prints.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: IngestBench <clip-folder> <extension> <seconds>");
    return 2;
}
var files = Directory.GetFiles(args[0], "*." + args[1]).Order(StringComparer.Ordinal).ToArray();
double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
double audio = files.Sum(f => AudioDecoder.Decode(f).Length) / 16000.0; // warm-up pass
var sw = Stopwatch.StartNew();
int passes = 0;
while (sw.Elapsed.TotalSeconds < seconds)
{
    foreach (var f in files) AudioDecoder.Decode(f);
    passes++;
}
double elapsed = sw.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"csharp ext={args[1]} clips={files.Length} passes={passes} elapsed={elapsed:F2}s clips/s={passes * files.Length / elapsed:F1} audio-s/s={passes * audio / elapsed:F0}"));
return 0;
