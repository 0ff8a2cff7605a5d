using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Model;
using ActorTraining.Compute.Training;
using ActorTraining.Messages;
using Xunit.Abstractions;

namespace ActorTraining.Actors.Tests;

/// <summary>
/// One checkpoint evaluated by one evaluator and by three (each its own actor, model, thread and pipeline, scoring
/// every third batch of the set): the collector's metrics are equal to the last bit, and so are `predict`'s scores.
/// </summary>
public sealed class ShardedEvaluationTests : TestKit, IDisposable
{
    readonly string _dir;
    readonly ITestOutputHelper _output;

    public ShardedEvaluationTests(ITestOutputHelper output) : this(output, Directory.CreateTempSubdirectory("sharded-eval-").FullName) { }

    ShardedEvaluationTests(ITestOutputHelper output, string dir) : base(TestConfig.PipelineDispatcher(2), "sharded", output)
    {
        _dir = dir;
        _output = output;
    }

    [Fact]
    public void ThreeShardsGiveExactlyTheMetricsAndScoresOfOne()
    {
        var defaults = ExperimentConfig.Default();
        var config = defaults with
        {
            Model = defaults.Model with { Size = "custom", EmbedDim = 64, Depth = 2, Heads = 4 },
            Training = defaults.Training with { BatchSize = 4 },
            Curriculum = [new PhaseConfig("pool", 1, "max", 1, 1e-3, 0)],
            Compare = [],
        };
        var corpus = TestCorpus.Synthetic(Path.Combine(_dir, "corpus"), clipsPerClass: 2, evalClipsPerClass: 3); // 18 clips: 5 batches
        var settings = new RunSettings(config, 0, corpus.Train, corpus.Eval, corpus.Labels, Path.Combine(_dir, "checkpoints"), Workers: 1);
        var phase = settings.Plan()[0];
        var path = Path.Combine(_dir, "model.ckpt");
        string sha;
        using (var model = TorchRng.Seeded(9, () => AudioModel.Create(settings.PhaseModel(phase))))
        using (var optimizer = TrainingStep.CreateOptimizer(model, 1e-3))
            sha = CheckpointFile.Save(path, model, optimizer, new TrainingCheckpointInfo(0, 0, 0, 0, [0, 0, 1e-3], TorchRng.Capture(), 9, 0, "h"));
        var what = new EvaluateCheckpoint(new CheckpointRef(path, sha), phase, 0);
        long batches = (corpus.Eval.Count + 3) / 4;

        object Evaluate(int shards, bool prediction)
        {
            var replyTo = CreateTestProbe();
            var collector = Sys.ActorOf(EvaluationCollector.Props(what, 1, batches, EvaluationCollector.TargetsOf(corpus.Eval, corpus.Labels), replyTo.Ref,
                prediction, reportsProgress: false));
            var evaluators = Enumerable.Range(0, shards).Select(_ => Sys.ActorOf(Evaluator.Props(settings))).ToList();
            for (int s = 0; s < shards; s++) evaluators[s].Tell(new EvaluateShard(0, 1, what, s, shards, collector, prediction ? ScoreOutput.Probabilities : ScoreOutput.Metrics));
            var answer = replyTo.FishForMessage(m => m is EvaluationDone or ClipScores or RunFailed or TrainingFaulted, TimeSpan.FromMinutes(2));
            foreach (var e in evaluators) Sys.Stop(e);
            return answer;
        }

        var one = Assert.IsType<EvaluationDone>(Evaluate(1, false));
        var three = Assert.IsType<EvaluationDone>(Evaluate(3, false));
        _output.WriteLine(string.Join(", ", one.Metrics.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value:R}")));
        Assert.Equal(one.Metrics.OrderBy(m => m.Key).Select(m => BitConverter.DoubleToInt64Bits(m.Value)),
            three.Metrics.OrderBy(m => m.Key).Select(m => BitConverter.DoubleToInt64Bits(m.Value)));
        var scoresOne = Assert.IsType<ClipScores>(Evaluate(1, true));
        var scoresThree = Assert.IsType<ClipScores>(Evaluate(3, true));
        Assert.Equal(corpus.Eval.Count, scoresOne.Scores.Count);
        Assert.Equal(scoresOne.Scores.SelectMany(r => r), scoresThree.Scores.SelectMany(r => r));
    }

    public new void Dispose()
    {
        base.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
