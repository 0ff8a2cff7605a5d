using ActorTraining.Compute.Data;

namespace ActorTraining.Compute.Tests.Data;

public sealed class DatasetTests : IDisposable
{
    private readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    private string Write(string name, string text)
    {
        var path = _files.PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void DatafileResolvesRelativePathsAgainstItsFolderAndSplitsLabels()
    {
        var path = Write("sets/train.json", """{"data":[{"wav":"audio/a.wav","labels":"/m/01,/m/02"},{"wav":"/abs/b.flac","labels":"/m/03"}]}""");
        var entries = AstDatafile.Load(path);
        Assert.Equal(2, entries.Count);
        Assert.Equal(Path.Combine(_files.Folder, "sets", "audio", "a.wav"), entries[0].AudioPath);
        Assert.Equal(["/m/01", "/m/02"], entries[0].Labels);
        Assert.Equal("/abs/b.flac", entries[1].AudioPath);
    }

    [Theory]
    [InlineData("""{"data":[{"wav":"a.wav","labels":"x"},""", "malformed JSON")]
    [InlineData("""{"items":[]}""", "'data'")]
    [InlineData("""{"data":[]}""", "empty corpus")]
    [InlineData("""{"data":[{"wav":"a.wav","labels":"x"},{"labels":"y"}]}""", "data[1] is missing key 'wav'")]
    [InlineData("""{"data":[{"wav":"a.wav"}]}""", "data[0] is missing key 'labels'")]
    [InlineData("""{"data":[{"wav":3,"labels":"x"}]}""", "data[0] key 'wav'")]
    [InlineData("""{"data":[{"wav":"a.wav","labels":" , "}]}""", "data[0] key 'labels' is empty")]
    public void DatafileErrorsNameFileEntryAndKey(string json, string fragment)
    {
        var path = Write("bad.json", json);
        var e = Assert.Throws<DatasetException>(() => AstDatafile.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void LabelCsvReadsQuotedDisplayNames()
    {
        var path = Write("labels.csv", "index,mid,display_name\n0,/m/09x0r,\"Speech\"\n1,/m/0k4j,\"Accelerating, revving, vroom\"\n");
        var labels = LabelCsv.Load(path);
        Assert.Equal(2, labels.Count);
        Assert.Equal(1, labels.IndexOf("/m/0k4j"));
        Assert.Equal(-1, labels.IndexOf("/m/none"));
        Assert.Equal("Accelerating, revving, vroom", labels.DisplayNames[1]);
    }

    [Theory]
    [InlineData("idx,mid,name\n0,a,b\n", "header")]
    [InlineData("index,mid,display_name\n0,a,A\n2,b,B\n", "line 3: index 2 out of order")]
    [InlineData("index,mid,display_name\n0,a,A\n1,a,B\n", "mid 'a' appears twice")]
    [InlineData("index,mid,display_name\n", "no classes")]
    [InlineData("index,mid,display_name\nzero,a,A\n", "not an integer")]
    public void LabelCsvErrorsNameTheLine(string csv, string fragment)
    {
        var path = Write("bad.csv", csv);
        var e = Assert.Throws<DatasetException>(() => LabelCsv.Load(path));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void FolderCorpusTakesOneClassPerFolderSorted()
    {
        Write("corpus/rain/1.wav", "x");
        Write("corpus/rain/notes.txt", "x");
        Write("corpus/dog/a.flac", "x");
        Write("corpus/dog/sub/b.mp3", "x");
        var (entries, labels) = FolderCorpus.Load(_files.PathOf("corpus"));
        Assert.Equal(["dog", "rain"], labels.Mids);
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.True(Path.IsPathFullyQualified(e.AudioPath)));
        Assert.Equal(["dog", "dog", "rain"], entries.Select(e => e.Labels.Single()));
    }

    [Fact]
    public void FolderCorpusWithAnEmptyClassNamesIt()
    {
        Write("corpus/rain/1.wav", "x");
        Directory.CreateDirectory(_files.PathOf("corpus/wind"));
        var e = Assert.Throws<DatasetException>(() => FolderCorpus.Load(_files.PathOf("corpus")));
        Assert.Contains("'wind'", e.Message);
    }
}
