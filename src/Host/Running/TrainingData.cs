using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;

namespace ActorTraining.Host.Running;

/// <summary>The corpora a run trains and evaluates on, loaded as the experiment's data section says, labels checked.</summary>
public sealed record TrainingData(IReadOnlyList<DatasetEntry> Train, IReadOnlyList<DatasetEntry> Eval, LabelSet Labels)
{
    public static TrainingData Load(ExperimentConfig config, string runDirectory)
    {
        var data = config.Data;
        TrainingData result;
        switch (data.Source)
        {
            case "synthetic":
                var files = SyntheticCorpus.Generate(Path.Combine(runDirectory, "corpus"), data.Synthetic);
                result = new(AstDatafile.Load(files.TrainDatafile), AstDatafile.Load(files.EvalDatafile), LabelCsv.Load(files.LabelCsv));
                break;
            case "datafile":
                result = new(AstDatafile.Load(data.TrainDatafile!), AstDatafile.Load(data.EvalDatafile!), LabelCsv.Load(data.LabelCsv!));
                break;
            case "folder":
                var (entries, labels) = FolderCorpus.Load(data.FolderRoot!);
                var (train, eval) = Split(entries, data.EvalFraction);
                result = new(train, eval, labels);
                break;
            default:
                throw new ConfigException("data.source", $"must be synthetic, datafile or folder, got '{data.Source}'");
        }
        result.CheckLabels(data.TrainDatafile ?? "training corpus", result.Train);
        result.CheckLabels(data.EvalDatafile ?? "evaluation corpus", result.Eval);
        return result;
    }

    /// <summary>Every n-th clip of each class (in listing order) goes to evaluation, so the split is deterministic.</summary>
    static (IReadOnlyList<DatasetEntry> Train, IReadOnlyList<DatasetEntry> Eval) Split(IReadOnlyList<DatasetEntry> entries, double evalFraction)
    {
        var train = new List<DatasetEntry>();
        var eval = new List<DatasetEntry>();
        foreach (var group in entries.GroupBy(e => e.Labels[0]))
        {
            var clips = group.ToList();
            var evalCount = Math.Max(1, (int)Math.Round(clips.Count * evalFraction));
            var stride = (double)clips.Count / evalCount;
            var evalIndices = Enumerable.Range(0, evalCount).Select(i => (int)(i * stride)).ToHashSet();
            for (int i = 0; i < clips.Count; i++) (evalIndices.Contains(i) ? eval : train).Add(clips[i]);
        }
        return (train, eval);
    }

    void CheckLabels(string source, IReadOnlyList<DatasetEntry> entries)
    {
        if (entries.Count == 0) throw new DatasetException(source, "empty corpus: no clips");
        for (int i = 0; i < entries.Count; i++)
            foreach (var label in entries[i].Labels)
                if (Labels.IndexOf(label) < 0)
                    throw new DatasetException(source, $"data[{i}] ({entries[i].AudioPath}) has label '{label}', which is not in the label list ({Labels.Count} classes)");
    }
}
