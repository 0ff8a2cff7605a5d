using System.Diagnostics;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Reporting;

namespace ActorTraining.Host.Tests;

/// <summary>`features` and `stats` through the real executable, on audio sox generates.</summary>
public sealed class AudioVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actortraining-verbs-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string Sox(string name, params string[] synth)
    {
        var path = Path.Combine(_dir, name);
        var psi = new ProcessStartInfo("sox") { RedirectStandardError = true };
        foreach (var a in new[] { "-n", "-r", "44100", "-c", "2", "-b", "16", path, "synth" }.Concat(synth)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        return path;
    }

    [Fact]
    public void FeaturesWritesTheSameFbankAsTheLibrary()
    {
        var wav = Sox("tone.flac", "1.5", "sine", "300-3000", "sine", "440");
        var npy = Path.Combine(_dir, "tone.npy");
        var r = Cli.Run("features", wav, "--out", npy, "--frame-shift-ms", "20", "--mel-bins", "64");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var (data, shape) = NpyFile.Read(npy);
        Assert.Equal([74L, 64L], shape); // 1.5 s at 16 kHz: 1 + (24000 − 400) / 320
        using var expected = new FbankExtractor(new FbankOptions(20, 64)).Compute(AudioDecoder.Decode(wav));
        Assert.Equal(expected.data<float>().ToArray(), data);
        Assert.Contains("74 frames", r.Stdout);
    }

    [Fact]
    public void FeaturesOnABrokenFileFailsWithOneLineNamingIt()
    {
        var bad = Path.Combine(_dir, "broken.wav");
        File.WriteAllBytes(bad, [.. "RIFF"u8, 0, 0, 0, 0]);
        var r = Cli.Run("features", bad, "--out", Path.Combine(_dir, "x.npy"));
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(bad, line);
        Assert.False(File.Exists(Path.Combine(_dir, "x.npy")));
    }

    [Fact]
    public void FeaturesWithoutOutIsAnError()
    {
        var r = Cli.Run("features", Sox("a.wav", "0.2", "sine", "440"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--out", r.Stderr + r.Stdout);
    }

    [Fact]
    public void StatsPrintsMeanAndStdAndReportsSkippedFiles()
    {
        Sox("a.wav", "1", "sine", "440");
        Sox("b.wav", "0.7", "pinknoise");
        File.WriteAllText(Path.Combine(_dir, "bad.wav"), "not audio");
        var datafile = Path.Combine(_dir, "train.json");
        File.WriteAllText(datafile, """{"data":[{"wav":"a.wav","labels":"x"},{"wav":"b.wav","labels":"y"},{"wav":"bad.wav","labels":"y"}]}""");
        var r = Cli.Run("stats", datafile, "--frame-shift-ms", "20", "--target-length", "64");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var (mean, std) = CorpusStats.Compute([Path.Combine(_dir, "a.wav"), Path.Combine(_dir, "b.wav")], new FbankOptions(20), 64);
        Assert.Contains($"mean {mean.ToString("0.0000000", System.Globalization.CultureInfo.InvariantCulture)}", r.Stdout);
        Assert.Contains($"std {std.ToString("0.0000000", System.Globalization.CultureInfo.InvariantCulture)}", r.Stdout);
        Assert.Contains("clips 2, skipped 1", r.Stdout);
        Assert.Contains("skipped: ", r.Stdout);
        Assert.Contains("bad.wav", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void StatsOnAMalformedDatafileNamesTheEntryAndKey()
    {
        var datafile = Path.Combine(_dir, "bad.json");
        File.WriteAllText(datafile, """{"data":[{"wav":"a.wav","labels":"x"},{"wave":"b.wav","labels":"y"}]}""");
        var r = Cli.Run("stats", datafile);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("data[1] is missing key 'wav'", r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The issue's clip: a 19 ms tick, 857 samples at 44.1 kHz stereo (311 at 16 kHz, under one 25 ms window).</summary>
    [Fact]
    public void FeaturesOfA19MsTickIsOneFrame()
    {
        var tick = Sox("tick.wav", "0.0194", "sine", "2000");
        Assert.InRange(AudioDecoder.Decode(tick).Length, 300, 320);
        foreach (var shift in new[] { "10", "40" })
        {
            var npy = Path.Combine(_dir, $"tick-{shift}.npy");
            var r = Cli.Run("features", tick, "--out", npy, "--frame-shift-ms", shift);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal([1L, 128L], NpyFile.Read(npy).Shape);
            Assert.Contains("1 frames", r.Stdout);
        }
    }

    [Fact]
    public void FeaturesOfAnEmptyClipIsAnErrorNamingTheFile()
    {
        var empty = Path.Combine(_dir, "empty.wav");
        File.WriteAllBytes(empty, [.. "RIFF"u8, 36, 0, 0, 0, .. "WAVEfmt "u8, 16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0, .. "data"u8, 0, 0, 0, 0]);
        var r = Cli.Run("features", empty, "--out", Path.Combine(_dir, "empty.npy"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {empty}: no audio samples", r.Stderr.Trim());
    }

    /// <summary>Ticks shorter than one window are trained on like any clip (not skipped), and the summary counts them.</summary>
    [Fact]
    public void ClipsShorterThanOneWindowAreTrainedOnAndCounted()
    {
        var entries = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            entries.Add($$"""{"wav":"{{Sox($"low{i}.wav", "0.6", "sine", $"{300 + 20 * i}")}}","labels":"/m/low"}""");
            entries.Add($$"""{"wav":"{{Sox($"high{i}.wav", "0.6", "sine", $"{3000 + 100 * i}")}}","labels":"/m/high"}""");
        }
        entries.Add($$"""{"wav":"{{Sox("tick-a.wav", "0.0194", "sine", "300")}}","labels":"/m/low"}""");
        entries.Add($$"""{"wav":"{{Sox("tick-b.wav", "0.01", "sine", "3000")}}","labels":"/m/high"}""");
        var datafile = Path.Combine(_dir, "train.json");
        File.WriteAllText(datafile, $$"""{"data":[{{string.Join(",", entries)}}]}""");
        var labels = Path.Combine(_dir, "labels.csv");
        File.WriteAllText(labels, "index,mid,display_name\n0,/m/low,\"low\"\n1,/m/high,\"high\"\n");
        var r = TrainSmall("run", batch: 7, "[{method=pool, factor=1, epochs=1}]",
            "data.source=datafile", $"data.train={datafile}", $"data.eval={datafile}", $"data.labels={labels}");
        Assert.Contains("data: 14 training clips", r.Stdout);
        Assert.Contains("zero-padded to one 25 ms analysis window: 2 clip(s) shorter than it", r.Stdout);
    }

    /// <summary>`train` of a small model (64 frames, 32 mel bins) on the data the <paramref name="data"/> keys give: it
    /// succeeds, skips no clip and writes nothing on stderr.</summary>
    Cli.Result TrainSmall(string runDir, int batch, string curriculum, params string[] data)
    {
        string[] keys = [.. data, "model.target-length=64", "model.mel-bins=32", $"training.batch-size={batch}", "compare=[]", $"curriculum={curriculum}"];
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(3), ["train", "--run-dir", Path.Combine(_dir, runDir), .. keys.SelectMany(k => new[] { "--set", k })]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.DoesNotContain("skipped", r.Stdout);
        Assert.Equal("", r.Stderr);
        return r;
    }

    /// <summary>
    /// A 19 ms clip in a folder corpus has one 10 ms frame, fewer than the pooling factor of every coarse phase: it is
    /// pooled to one frame and trained on at C = 4, 2 and 1, counted once, skipped never.
    /// </summary>
    [Fact]
    public void AClipShorterThanThePoolingFactorTrainsInEveryPhaseOfAFolderCorpus()
    {
        var root = Path.Combine(_dir, "folder-corpus");
        foreach (var (label, frequency) in new[] { ("low", 300), ("high", 3000) })
        {
            Directory.CreateDirectory(Path.Combine(root, label));
            for (int i = 0; i < 5; i++)
                File.Move(Sox($"{label}{i}-f.wav", "0.6", "sine", $"{frequency + 20 * i}"), Path.Combine(root, label, $"{label}{i}.wav"));
        }
        File.Move(Sox("elec_tick.wav", "0.019", "sine", "2000"), Path.Combine(root, "high", "elec_tick.wav"));
        var r = TrainSmall("folder-run", batch: 4, "[{method=pool, factor=4, epochs=1}, {method=pool, factor=2, epochs=1}, {method=pool, factor=1, epochs=1}]",
            "data.source=folder", $"data.folder={root}", "data.eval-fraction=0.2");
        Assert.Contains("zero-padded to one 25 ms analysis window: 1 clip(s) shorter than it", r.Stdout);
        var records = RunLog.Read(Path.Combine(_dir, "folder-run", RunLog.JsonlName));
        Assert.Equal([4, 2, 1], records.Select(e => e.Factor));
    }
}
