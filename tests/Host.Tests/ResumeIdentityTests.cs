using ActorTraining.Compute.Training;
using Xunit.Abstractions;
using static ActorTraining.Host.Tests.TrainedRunProbe;

namespace ActorTraining.Host.Tests;

/// <summary>
/// What a run directory resumes against: the configuration's result-changing part and the data's content, not where
/// the data lies. A corpus moved to another folder (datafiles beside their audio, relative paths) resumes; an
/// edited datafile is refused with a sentence saying so.
/// </summary>
public sealed class ResumeIdentityTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("resume-identity-").FullName;

    const string Experiment = """
        data.source = datafile
        training { batch-size = 8, checkpoint-every-steps = 3, seed = 3 }
        curriculum = [
          { method = pool, factor = 2, epochs = 1, lr = 1e-3, warmup-steps = 4 }
          { method = pool, factor = 1, epochs = 2, lr = 1e-3, warmup-steps = 4 }
        ]
        compare = []
        """;

    string[] TrainArgs(string runDir, string corpus) =>
    [
        "train", "--config", Path.Combine(_dir, "experiment.hocon"), "--run-dir", runDir, "--torch-threads", "1",
        "--set", $"data.train={Path.Combine(corpus, "train.json")}", "--set", $"data.eval={Path.Combine(corpus, "eval.json")}",
        "--set", $"data.labels={Path.Combine(corpus, "class_labels_indices.csv")}",
    ];

    [Fact]
    public void AMovedCorpusResumesAndAnEditedDatafileIsRefused()
    {
        File.WriteAllText(Path.Combine(_dir, "experiment.hocon"), Experiment);
        var first = Path.Combine(_dir, "corpus-here");
        SyntheticCorpus.Generate(first, 12, seed: 5, evalClipsPerClass: 2, minSeconds: 1.0, maxSeconds: 1.5);
        var runDir = Path.Combine(_dir, "run");

        var killedAt = KillWhen(_dir, TrainArgs(runDir, first), runDir, null, c => c is { Phase: 1, EpochComplete: false });
        output.WriteLine($"killed after {Path.GetFileName(killedAt.Path)}");

        var moved = Path.Combine(_dir, "elsewhere", "corpus-there");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        Directory.Move(first, moved);
        var resumed = Cli.RunIn(_dir, TimeSpan.FromMinutes(4), TrainArgs(runDir, moved));
        output.WriteLine(resumed.Stdout + resumed.Stderr);
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Single(JournalEvents(runDir, "RunStarted"));
        var commits = Commits(runDir);
        var next = commits[commits.FindIndex(c => c.Path == killedAt.Path) + 1];
        Assert.True(next.Step > killedAt.Step, $"after the move the run started over (step {next.Step} after {killedAt.Step})");

        // one entry less in the training datafile: the saved data position would point at other clips
        var train = Path.Combine(moved, "train.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(train))!;
        json["data"]!.AsArray().RemoveAt(0);
        File.WriteAllText(train, json.ToJsonString());
        var refused = Cli.RunIn(_dir, TimeSpan.FromMinutes(2), TrainArgs(runDir, moved));
        output.WriteLine(refused.Stdout + refused.Stderr);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("started with different data", refused.Stderr);
        Assert.Contains("datafile", refused.Stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
