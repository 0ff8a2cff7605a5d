using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Data;

/// <summary>The generated corpus (train helper) reads back through the dataset readers and the decoder.</summary>
public sealed class SyntheticCorpusReadBackTests : IDisposable
{
    private readonly TestFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Fact]
    public void DatafileLabelsAndAudioLoad()
    {
        var files = SyntheticCorpus.Generate(_files.Folder, clipsPerClass: 1, seed: 3);
        var entries = AstDatafile.Load(files.TrainDatafile);
        var labels = LabelCsv.Load(files.LabelCsv);
        Assert.Equal(files.Classes.Count, labels.Count);
        Assert.NotEmpty(entries);
        Assert.All(entries, e =>
        {
            Assert.All(e.Labels, l => Assert.True(labels.IndexOf(l) >= 0, $"label {l} not in {files.LabelCsv}"));
            Assert.True(AudioDecoder.Decode(e.AudioPath).Length > 1600);
        });
    }
}
