using ActorTraining.Compute.Data;
using ActorTraining.Host.Configuration;
using ActorTraining.Host.Running;

namespace ActorTraining.Host.Tests;

/// <summary>`train`'s corpora as corpus indexes in the run directory: the folder split, and datafile indexes reused on resume.</summary>
public sealed class TrainingDataTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("training-data-").FullName;

    string Touch(string relative)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    [Fact]
    public void AFolderCorpusHoldsOutEveryNthClipOfEachClassInListingOrder()
    {
        var dog = Enumerable.Range(0, 5).Select(i => Touch($"corpus/dog/{i}.wav")).ToList();
        var rain = Enumerable.Range(0, 8).Select(i => Touch($"corpus/rain/{i}.flac")).ToList();
        Touch("corpus/rain/notes.txt");
        var config = ExperimentConfigLoader.Load(null, new Dictionary<string, string>
        {
            ["data.source"] = "folder", ["data.folder"] = Path.Combine(_dir, "corpus"), ["data.eval-fraction"] = "0.25",
        });
        using var data = TrainingData.Load(config, Path.Combine(_dir, "run"));
        Assert.Equal(["dog", "rain"], data.Labels.Mids);
        // dog: round(5 × 0.25) = 1 held out (clip 0); rain: 2 held out, stride 4 (clips 0 and 4)
        Assert.Equal([dog[0], rain[0], rain[4]], data.Eval.Select(e => e.AudioPath));
        Assert.Equal([.. dog.Skip(1), rain[1], rain[2], rain[3], rain[5], rain[6], rain[7]], data.Train.Select(e => e.AudioPath));
        Assert.All(data.Train, e => Assert.Equal(Path.GetFileName(Path.GetDirectoryName(e.AudioPath)), e.Labels.Single()));
        Assert.StartsWith(TrainingData.IndexDirectory(Path.Combine(_dir, "run")), ((CorpusIndex)data.Train).Path);
    }

    [Fact]
    public void DatafileIndexesLiveInTheRunDirectoryAndAreReusedWhileTheDatafilesAreUnchanged()
    {
        Touch("data/a.wav");
        var datafile = Path.Combine(_dir, "data", "train.json");
        File.WriteAllText(datafile, """{"data":[{"wav":"a.wav","labels":"/m/a"},{"wav":"b.wav","labels":"/m/b"}]}""");
        var labels = Path.Combine(_dir, "data", "labels.csv");
        File.WriteAllText(labels, "index,mid,display_name\n0,/m/a,A\n1,/m/b,B\n");
        var config = ExperimentConfigLoader.Load(null, new Dictionary<string, string>
        {
            ["data.source"] = "datafile", ["data.train"] = datafile, ["data.eval"] = datafile, ["data.labels"] = labels,
        });
        var run = Path.Combine(_dir, "run");
        DateTime built;
        using (var first = TrainingData.Load(config, run))
        {
            Assert.Equal(Path.Combine(_dir, "data", "b.wav"), first.Train[1].AudioPath);
            Assert.Equal(((CorpusIndex)first.Train).Path, ((CorpusIndex)first.Eval).Path); // one datafile, one index
            built = File.GetLastWriteTimeUtc(((CorpusIndex)first.Train).Path);
        }
        Assert.Equal(["data"], Directory.GetDirectories(_dir).Select(Path.GetFileName).Except(["run"]));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "data"), "*index*")); // nothing written beside the datafile
        Thread.Sleep(20);
        using var second = TrainingData.Load(config, run);
        Assert.Equal(built, File.GetLastWriteTimeUtc(((CorpusIndex)second.Train).Path));
        Assert.Equal(2, second.Train.Count);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
