using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Tests.Features;

public sealed class CorpusStatsTests : IDisposable
{
    private readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    private string[] Clips()
    {
        var rng = new Random(2);
        return Enumerable.Range(0, 3).Select(i =>
        {
            int n = 16000 / 2 + 1000 * i;
            var x = new float[1, n];
            for (int k = 0; k < n; k++) x[0, k] = (float)(0.3 * Math.Sin(2 * Math.PI * (300 + 200 * i) * k / 16000) + 0.05 * (rng.NextDouble() - 0.5));
            return _files.WriteWav($"c{i}.wav", x, 16000, 16);
        }).ToArray();
    }

    /// <summary>Independent computation: padded fbanks stacked, torch mean and std over one batch.</summary>
    private static (double, double) Direct(IEnumerable<string> paths, int target)
    {
        using var scope = NewDisposeScope();
        var extractor = new FbankExtractor(new FbankOptions());
        var all = stack(paths.Select(p => AstPreprocessing.PadOrCut(extractor.Compute(AudioDecoder.Decode(p)), target)).ToArray()).to(float64);
        return (all.mean().item<double>(), all.std().item<double>());
    }

    [Fact]
    public void OneBatchEqualsMeanAndStdOverAllPaddedCells()
    {
        var clips = Clips();
        var (mean, std) = CorpusStats.Compute(clips, new FbankOptions(), 64);
        var (m, s) = Direct(clips, 64);
        Assert.Equal(m, mean, 6);
        Assert.Equal(s, std, 6);
        Assert.InRange(mean, -30, 10);
        Assert.True(std > 0.5);
    }

    [Fact]
    public void SeveralBatchesAverageBatchMeansAndStdsAsTheReference()
    {
        var clips = Clips();
        var (mean, std) = CorpusStats.Compute(clips, new FbankOptions(), 64, onSkipped: null, batchSize: 2);
        var (m1, s1) = Direct(clips[..2], 64);
        var (m2, s2) = Direct(clips[2..], 64);
        Assert.Equal((m1 + m2) / 2, mean, 6);
        Assert.Equal((s1 + s2) / 2, std, 6);
    }

    [Fact]
    public void BrokenFilesThrowOrAreReported()
    {
        var clips = Clips().Append(_files.PathOf("missing.wav")).ToArray();
        Assert.Throws<AudioDecodeException>(() => CorpusStats.Compute(clips, new FbankOptions(), 64));
        var skipped = new List<string>();
        var (mean, _) = CorpusStats.Compute(clips, new FbankOptions(), 64, e => skipped.Add(e.FilePath));
        Assert.Equal([_files.PathOf("missing.wav")], skipped);
        Assert.Equal(Direct(clips[..3], 64).Item1, mean, 6);
    }
}
