using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;

namespace ActorTraining.Actors.Tests;

/// <summary>Generated corpora for pipeline tests: the synthetic sound-event corpus, loaded as the host loads it.</summary>
public static class TestCorpus
{
    public static (IReadOnlyList<DatasetEntry> Train, IReadOnlyList<DatasetEntry> Eval, LabelSet Labels) Synthetic(string folder,
        int clipsPerClass, int evalClipsPerClass = 2, double minSeconds = 1.0, double maxSeconds = 1.5)
    {
        var files = SyntheticCorpus.Generate(folder, clipsPerClass, seed: 3, evalClipsPerClass, minSeconds, maxSeconds);
        return (AstDatafile.Load(files.TrainDatafile), AstDatafile.Load(files.EvalDatafile), LabelCsv.Load(files.LabelCsv));
    }

    public static PipelineSpec Spec(IReadOnlyList<DatasetEntry> entries, LabelSet labels, int workers, int batchSize = 5,
        bool training = true, string method = "pool", int factor = 1, Compute.Distributed.DataShare? share = null) =>
        new(entries, labels, Seed: 11, Shuffle: training, Augment: training, MixupProbability: training ? 0.5 : 0,
            BaseFrameShiftMs: 10, MelBins: 64, FineTargetFrames: 128, Compression: Compute.Compression.Compression.Parse(method, factor, "max"),
            InputFrames: method == "patch" ? 128 : 128 / factor, Mean: -4.27, Std: 4.57, FreqMask: 8, TimeMask: 16 / factor,
            BatchSize: batchSize, Workers: workers, Share: share ?? Compute.Distributed.DataShare.Whole(batchSize));
}
