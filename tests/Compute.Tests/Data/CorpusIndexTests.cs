using ActorTraining.Compute.Data;

namespace ActorTraining.Compute.Tests.Data;

public sealed class CorpusIndexTests : IDisposable
{
    readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    string Write(string name, string text)
    {
        var path = _files.PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void TheIndexHoldsExactlyTheEntriesTheDatafileLists()
    {
        var path = Write("sets/train.json", """
            {"version": 2, "notes": {"skip": [1, {"x": null}]},
             "data": [
               {"wav": "audio/a.wav", "labels": "/m/01,/m/02", "extra": [1, 2]},
               // comments and trailing commas are accepted as by the reference's loader
               {"labels": "/m/03", "wav": "/abs/b.flac"},
               {"wav": "ünï cødé/ç.wav", "labels": " /m/02 , /m/04 "},
             ]}
            """);
        using var index = CorpusIndex.OfDatafile(path, _files.PathOf("run/index"));
        Assert.Equal(AstDatafile.Load(path), index, new EntryComparer());
        Assert.Equal(Path.Combine(_files.Folder, "sets", "ünï cødé", "ç.wav"), index[2].AudioPath);
        Assert.Equal(["/m/02", "/m/04"], index[2].Labels);
        Assert.Equal(["/m/01", "/m/02", "/m/03", "/m/04"], index.Labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => index[3]);
    }

    [Fact]
    public void AnUnchangedDatafileReusesItsIndexAndAChangedOneIsRebuilt()
    {
        var path = Write("train.json", """{"data":[{"wav":"a.wav","labels":"x"}]}""");
        var dir = _files.PathOf("run/index");
        string indexPath;
        DateTime built;
        using (var first = CorpusIndex.OfDatafile(path, dir))
        {
            indexPath = first.Path;
            built = File.GetLastWriteTimeUtc(indexPath);
        }
        Thread.Sleep(20);
        using (var again = CorpusIndex.OfDatafile(path, dir))
        {
            Assert.Equal(indexPath, again.Path);
            Assert.Equal(built, File.GetLastWriteTimeUtc(indexPath));
        }
        Write("train.json", """{"data":[{"wav":"a.wav","labels":"x"},{"wav":"b.wav","labels":"y"}]}""");
        using (var rebuilt = CorpusIndex.OfDatafile(path, dir))
        {
            Assert.Equal(2, rebuilt.Count);
            Assert.Equal(["x", "y"], rebuilt.Labels);
        }
        Assert.Equal([indexPath], Directory.GetFiles(dir)); // no temporary parts left behind
    }

    [Fact]
    public void AnIndexFileThatIsCutShortIsRebuiltNotRead()
    {
        var path = Write("train.json", """{"data":[{"wav":"a.wav","labels":"x"},{"wav":"b.wav","labels":"y"}]}""");
        var dir = _files.PathOf("run/index");
        string indexPath;
        using (var index = CorpusIndex.OfDatafile(path, dir)) indexPath = index.Path;
        using (var f = new FileStream(indexPath, FileMode.Open)) f.SetLength(f.Length - 3);
        Assert.Throws<InvalidDataException>(() => CorpusIndex.Open(indexPath).Dispose());
        using var rebuilt = CorpusIndex.OfDatafile(path, dir);
        Assert.Equal("b.wav", Path.GetFileName(rebuilt[1].AudioPath));
    }

    [Fact]
    public void ATemporaryIndexIsDeletedOnDispose()
    {
        var path = Write("train.json", """{"data":[{"wav":"a.wav","labels":"x"}]}""");
        var index = CorpusIndex.OfDatafile(path, indexDirectory: null);
        Assert.True(File.Exists(index.Path));
        Assert.Equal(Path.GetTempPath().TrimEnd('/'), Path.GetDirectoryName(index.Path));
        index.Dispose();
        Assert.False(File.Exists(index.Path));
    }

    [Theory]
    [InlineData("""{"data":[{"wav":"a.wav","labels":"x"},""", "malformed JSON")]
    [InlineData("""{"data":[{"wav":"a.wav","labels":"x"}]} []""", "malformed JSON")]
    [InlineData("""{"data":{"wav":"a.wav"}}""", "key 'data' must be an array, found Object")]
    [InlineData("""{"data":[]}""", "empty corpus")]
    [InlineData("""{"data":[{"wav":"a.wav","labels":"x"},{"labels":"y"}]}""", "data[1] is missing key 'wav'")]
    [InlineData("""{"data":[{"wav":"a.wav","labels":"x"}, 7]}""", "data[1] must be an object, found Number")]
    [InlineData("""{"data":[{"wav":"a.wav","labels":["x"]}]}""", "data[0] key 'labels' must be a non-empty string, found Array")]
    public void ADatafileThatCannotBeIndexedIsNamedAndLeavesNoIndex(string json, string fragment)
    {
        var path = Write("bad.json", json);
        var dir = _files.PathOf("run/index");
        var e = Assert.Throws<DatasetException>(() => CorpusIndex.OfDatafile(path, dir));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(fragment, e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void TheFirstEntryWithALabelOutsideTheLabelSetIsFound()
    {
        var path = Write("train.json", """{"data":[{"wav":"a.wav","labels":"a"},{"wav":"b.wav","labels":"b,zebra"},{"wav":"c.wav","labels":"zebra"}]}""");
        using var index = CorpusIndex.OfDatafile(path, _files.PathOf("run/index"));
        Assert.Null(index.FirstUnknownLabel(new LabelSet(["a", "b", "zebra"], ["A", "B", "Z"])));
        var (i, entry, label) = index.FirstUnknownLabel(new LabelSet(["a", "b"], ["A", "B"]))!.Value;
        Assert.Equal((1, "b.wav", "zebra"), (i, Path.GetFileName(entry.AudioPath), label));
    }

    [Fact]
    public void ATokenLongerThanTheReadWindowIsRead()
    {
        var longName = new string('w', 200_000) + ".wav";
        var path = Write("long.json", $$"""{"data":[{"wav":"{{longName}}","labels":"x"},{"wav":"b.wav","labels":"y"}]}""");
        using var index = CorpusIndex.OfDatafile(path, _files.PathOf("run/index"));
        Assert.Equal(longName, Path.GetFileName(index[0].AudioPath));
        Assert.Equal("b.wav", Path.GetFileName(index[1].AudioPath));
    }

    sealed class EntryComparer : IEqualityComparer<DatasetEntry>
    {
        public bool Equals(DatasetEntry? a, DatasetEntry? b) => a!.AudioPath == b!.AudioPath && a.Labels.SequenceEqual(b.Labels);
        public int GetHashCode(DatasetEntry e) => e.AudioPath.GetHashCode();
    }
}
