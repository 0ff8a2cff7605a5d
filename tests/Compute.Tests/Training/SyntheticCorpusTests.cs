using System.Text.Json;
using ActorTraining.Compute.Training;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Training;

public sealed class SyntheticCorpusTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("synthetic-corpus-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SameSeedGivesIdenticalBytesAndOtherSeedsDiffer()
    {
        var a = SyntheticCorpus.Generate(Path.Combine(_dir, "a"), clipsPerClass: 3, seed: 11, evalClipsPerClass: 1);
        var b = SyntheticCorpus.Generate(Path.Combine(_dir, "b"), clipsPerClass: 3, seed: 11, evalClipsPerClass: 1);
        var c = SyntheticCorpus.Generate(Path.Combine(_dir, "c"), clipsPerClass: 3, seed: 12, evalClipsPerClass: 1);
        var filesA = Files(a.Folder);
        Assert.Equal(6 * 3 + 6 * 1 + 4, filesA.Length);   // wavs + train.json, eval.json, csv, synthetic.json
        Assert.Equal(filesA, Files(b.Folder));
        foreach (var f in filesA)
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Folder, f)), File.ReadAllBytes(Path.Combine(b.Folder, f)));
        var wav = filesA.First(f => f.EndsWith(".wav"));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.Folder, wav)), File.ReadAllBytes(Path.Combine(c.Folder, wav)));
    }

    [Fact]
    public void WritesAstDatafilesLabelCsvAnd16kHzMonoWavs()
    {
        var files = SyntheticCorpus.Generate(_dir, clipsPerClass: 2, seed: 1, evalClipsPerClass: 1, minSeconds: 1, maxSeconds: 2);
        using var doc = JsonDocument.Parse(File.ReadAllText(files.TrainDatafile));
        var data = doc.RootElement.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(12, data.Length);
        var csv = File.ReadAllLines(files.LabelCsv);
        Assert.Equal("index,mid,display_name", csv[0]);
        Assert.Equal(7, csv.Length);
        var mids = csv.Skip(1).Select(l => l.Split(',')[1]).ToHashSet();
        foreach (var entry in data)
        {
            Assert.Contains(entry.GetProperty("labels").GetString()!, mids);
            var path = Path.Combine(_dir, entry.GetProperty("wav").GetString()!);   // relative to the datafile's folder
            var bytes = File.ReadAllBytes(path);
            Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
            Assert.Equal(1, BitConverter.ToInt16(bytes, 22));            // mono
            Assert.Equal(16000, BitConverter.ToInt32(bytes, 24));
            var seconds = (bytes.Length - 44) / 2 / 16000.0;
            Assert.InRange(seconds, 1.0, 2.0);
        }
        Assert.Equal(6, JsonDocument.Parse(File.ReadAllText(files.EvalDatafile)).RootElement.GetProperty("data").GetArrayLength());
        // same parameters again: nothing rewritten
        var stamp = File.GetLastWriteTimeUtc(files.TrainDatafile);
        Thread.Sleep(20);
        SyntheticCorpus.Generate(_dir, clipsPerClass: 2, seed: 1, evalClipsPerClass: 1, minSeconds: 1, maxSeconds: 2);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(files.TrainDatafile));
    }

    /// <summary>Rising vs falling tones (and up vs down chirps) drawn with the same random parameters contain the
    /// same sounds, only in the opposite time order: their spectra match far more closely than two clips of one
    /// class with different draws, so a classifier of the average spectrum cannot separate them — while the
    /// spectral centroid's movement in time separates them on every clip.</summary>
    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 3)]
    public void PairedClassesShareTheSpectrumAndDifferOnlyInTime(int classA, int classB)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var a = Analyse(SyntheticCorpus.Synthesize(classA, new Random(seed)));
            var b = Analyse(SyntheticCorpus.Synthesize(classB, new Random(seed)));
            var other = Analyse(SyntheticCorpus.Synthesize(classA, new Random(seed + 1000)));
            double paired = Distance(a.Spectrum, b.Spectrum), sameClass = Distance(a.Spectrum, other.Spectrum);
            Assert.True(paired < 0.1 * sameClass, $"seed {seed}: paired-class spectral distance {paired:F4} vs same class, other draw {sameClass:F4}");
            Assert.True(a.CentroidSlope > 0, $"seed {seed}: class {classA} centroid slope {a.CentroidSlope}");
            Assert.True(b.CentroidSlope < 0, $"seed {seed}: class {classB} centroid slope {b.CentroidSlope}");
        }
    }

    // Normalised band power spectrum (64 bands up to 4 kHz) and the slope of the spectral centroid over the loud frames.
    static (double[] Spectrum, double CentroidSlope) Analyse(float[] clip)
    {
        using var scope = NewDisposeScope();
        var spec = stft(tensor(clip), n_fft: 512, hop_length: 160, window: hann_window(512), return_complex: true).abs().pow(2); // [257, frames]
        var power = spec[..128].T.contiguous();   // frames × bins up to 4 kHz
        int frames = (int)power.shape[0];
        var p = power.data<float>().ToArray();
        var spectrum = new double[64];
        var centroids = new List<(double T, double C)>();
        var energies = new double[frames];
        for (int t = 0; t < frames; t++) for (int k = 0; k < 128; k++) energies[t] += p[t * 128 + k];
        var loud = energies.Order().ElementAt(frames * 3 / 4) * 0.3;
        for (int t = 0; t < frames; t++)
        {
            double e = 0, m = 0;
            for (int k = 0; k < 128; k++) { spectrum[k / 2] += p[t * 128 + k]; e += p[t * 128 + k]; m += k * p[t * 128 + k]; }
            if (energies[t] > loud) centroids.Add((t, m / e));
        }
        var total = spectrum.Sum();
        var mt = centroids.Average(c => c.T); var mc = centroids.Average(c => c.C);
        var slope = centroids.Sum(c => (c.T - mt) * (c.C - mc)) / centroids.Sum(c => (c.T - mt) * (c.T - mt));
        return (spectrum.Select(s => s / total).ToArray(), slope);
    }

    static double Distance(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Sum();

    static string[] Files(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToArray();
}
