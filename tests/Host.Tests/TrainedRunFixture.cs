using ActorTraining.Compute.Training;

namespace ActorTraining.Host.Tests;

/// <summary>
/// One small `train` run shared by the verb tests: a datafile made from the generated corpus plus one unreadable
/// file, a pool-2 phase then a full-resolution phase. Keeps its process output and run directory.
/// </summary>
public sealed class TrainedRunFixture : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("trained-run-").FullName;
    public string RunDir => Path.Combine(Dir, "run");
    public string Config => Path.Combine(Dir, "experiment.hocon");
    public SyntheticCorpusFiles Corpus { get; }
    public string Broken { get; }
    public Cli.Result Train { get; }

    public TrainedRunFixture()
    {
        Corpus = SyntheticCorpus.Generate(Path.Combine(Dir, "corpus"), clipsPerClass: 8, seed: 4, evalClipsPerClass: 2, minSeconds: 1.0, maxSeconds: 1.2);
        Broken = Path.Combine(Dir, "corpus", "broken.wav");
        File.WriteAllBytes(Broken, "RIFF....WAVEfmt garbage"u8.ToArray());
        var train = File.ReadAllText(Corpus.TrainDatafile);
        var withBroken = train.Insert(train.IndexOf('[') + 1, $"{{\"wav\": \"{Broken}\", \"labels\": \"/t/up_chirp\"}},");
        var datafile = Path.Combine(Corpus.Folder, "train-with-broken.json"); // beside train.json: its paths are relative
        File.WriteAllText(datafile, withBroken);
        File.WriteAllText(Config, $$"""
            data { source = datafile, train = "{{datafile}}", eval = "{{Corpus.EvalDatafile}}", labels = "{{Corpus.LabelCsv}}" }
            training { batch-size = 8 }
            curriculum = [ { method = pool, factor = 2, epochs = 1 }, { method = pool, factor = 1, epochs = 1 } ]
            compare = []
            """);
        Train = Cli.RunIn(Dir, TimeSpan.FromMinutes(4), "train", "--config", Config, "--run-dir", RunDir);
    }

    public string FinalCheckpoint => Directory.GetFiles(Path.Combine(RunDir, "checkpoints"), "r0-p1-*-end*.ckpt").Single();

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
