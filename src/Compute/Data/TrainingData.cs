using ActorTraining.Compute.Data.Shards;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Data;

/// <summary>
/// The corpora a run trains and evaluates on, loaded as the experiment's data section says, labels checked. File
/// corpora are <see cref="CorpusIndex"/> files in the run directory's index folder (memory-mapped, so memory does not
/// grow with the corpus; a datafile's index is reused on resume while the datafile is unchanged); shard corpora are
/// <see cref="ShardCorpus"/> (shards and counts; the evaluation set's labels indexed there too). Dispose to unmap them.
/// </summary>
public sealed record TrainingData(IReadOnlyList<DatasetEntry> Train, IReadOnlyList<DatasetEntry> Eval, LabelSet Labels, string Fingerprint) : IDisposable
{
    public static string IndexDirectory(string runDirectory) => Path.Combine(runDirectory, "index");

    /// <summary>
    /// Loads (and for the synthetic corpus, first writes) the data under an exclusive lock on the run directory: the
    /// nodes of a cluster share it and start at the same time, and one writes the corpus and the indexes while the
    /// others wait and then read them.
    /// </summary>
    public static TrainingData Load(ExperimentConfig config, string runDirectory, Action<string>? warn = null)
    {
        using var exclusive = RunDirectoryLock.Take(runDirectory);
        return LoadUnlocked(config, runDirectory, warn);
    }

    static TrainingData LoadUnlocked(ExperimentConfig config, string runDirectory, Action<string>? warn)
    {
        var data = config.Data;
        var indexes = IndexDirectory(runDirectory);
        return data.Source switch
        {
            DataSource.Synthetic => FromSynthetic(SyntheticCorpus.Generate(Path.Combine(runDirectory, "corpus"), data.Synthetic), indexes),
            DataSource.Datafile => FromDatafiles((data.TrainDatafile!, data.EvalDatafile!, data.LabelCsv!), indexes),
            DataSource.Folder => FromFolder(data.FolderRoot!, data.EvalFraction, indexes),
            DataSource.Shards => FromShards(data.Shards!, data.LabelCsv!, indexes, warn ?? Console.Error.WriteLine),
            _ => throw new ConfigException("data.source", $"must be synthetic, datafile, folder or shards, got '{data.Source}'"),
        };
    }

    /// <summary>The node's shard cache of <paramref name="shards"/>.</summary>
    public static ShardCacheSettings ShardCacheOf(ShardsConfig shards) =>
        new(shards.ResolvedCacheDirectory, (long)(shards.CacheMaxGigabytes * 1e9), TimeSpan.FromSeconds(shards.SourceTimeoutSeconds));

    static TrainingData FromShards(ShardsConfig shards, string labelCsv, string indexes, Action<string> warn)
    {
        var labels = LabelCsv.Load(labelCsv);
        var cache = ShardCache.For(ShardCacheOf(shards));
        cache.Notice = message => warn($"warning: {message}");
        ShardCorpus? train = null, eval = null;
        try
        {
            train = ShardCorpus.Load(shards.TrainShards, "data.train-shards", cache, indexes, shards.Partitions, shards.WindowShards, labels, withLabels: false, warn);
            eval = ShardCorpus.Load(shards.EvalShards, "data.eval-shards", cache, indexes, shards.Partitions, shards.WindowShards, labels, withLabels: true, warn);
            return new TrainingData(train, eval, labels, ShardFingerprint(train, eval, labels));
        }
        catch
        {
            train?.Dispose();
            eval?.Dispose();
            throw;
        }
    }

    static string ShardFingerprint(ShardCorpus train, ShardCorpus eval, LabelSet labels) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"shards\n{train.Fingerprint()}\n{eval.Fingerprint()}\n{string.Join("\n", labels.Mids.Zip(labels.DisplayNames, (m, n) => $"{m}\t{n}"))}")));

    static TrainingData FromSynthetic(SyntheticCorpusFiles files, string indexes) =>
        FromDatafiles((files.TrainDatafile, files.EvalDatafile, files.LabelCsv), indexes);

    // Relative audio paths in a datafile resolve against the datafile's folder, and the fingerprint takes them relative
    // to it: a corpus moved as a whole (datafiles beside their audio) resumes; an edited datafile does not.
    static TrainingData FromDatafiles((string Train, string Eval, string LabelCsv) files, string indexes)
    {
        var labels = LabelCsv.Load(files.LabelCsv);
        return Checked(() => CorpusIndex.OfDatafile(files.Train, indexes), () => CorpusIndex.OfDatafile(files.Eval, indexes), labels,
            files.Train, files.Eval, FolderOf(files.Train), FolderOf(files.Eval), indexes);
    }

    static string FolderOf(string file) => Path.GetDirectoryName(Path.GetFullPath(file))!;

    /// <summary>Every n-th clip of each class (in listing order) goes to evaluation, so the split is deterministic.</summary>
    static TrainingData FromFolder(string root, double evalFraction, string indexes)
    {
        Directory.CreateDirectory(indexes);
        var (labels, classes) = FolderCorpus.Classes(root);
        using var train = new CorpusIndexWriter(Path.Combine(indexes, "folder-train.corpusindex"), (0, 0));
        using var eval = new CorpusIndexWriter(Path.Combine(indexes, "folder-eval.corpusindex"), (0, 0));
        foreach (var (name, clips) in classes)
        {
            var evalCount = Math.Max(1, (int)Math.Round(clips.Count * evalFraction));
            var stride = (double)clips.Count / evalCount;
            var evalIndices = Enumerable.Range(0, evalCount).Select(i => (int)(i * stride)).ToHashSet();
            for (int i = 0; i < clips.Count; i++) (evalIndices.Contains(i) ? eval : train).Add(clips[i], [name]);
        }
        return Checked(() => train.Complete(), () => eval.Complete(), labels, "training corpus", "evaluation corpus", root, root, indexes);
    }

    /// <summary>Opens both corpora and checks them against the labels (or finds in <paramref name="indexes"/> that a start on
    /// the same indexes did); nothing stays mapped if either fails.</summary>
    static TrainingData Checked(Func<CorpusIndex> openTrain, Func<CorpusIndex> openEval, LabelSet labels, string trainSource, string evalSource,
        string trainBase, string evalBase, string indexes)
    {
        CorpusIndex? train = null, eval = null;
        try
        {
            train = openTrain();
            eval = openEval();
            (CorpusIndex, string)[] corpora = [(train, trainBase), (eval, evalBase)];
            if (CheckedCorpusMemo.Read(indexes, corpora, labels) is { } known) return new TrainingData(train, eval, labels, known);
            var result = new TrainingData(train, eval, labels, CorpusFingerprint.Of(corpora, labels));
            result.CheckLabels(trainSource, train);
            result.CheckLabels(evalSource, eval);
            CheckedCorpusMemo.Write(indexes, corpora, labels, result.Fingerprint);
            return result;
        }
        catch
        {
            train?.Dispose();
            eval?.Dispose();
            throw;
        }
    }

    void CheckLabels(string source, CorpusIndex entries)
    {
        if (entries.Count == 0) throw new DatasetException(source, "empty corpus: no clips");
        if (entries.FirstUnknownLabel(Labels) is (var i, var entry, var label))
            throw new DatasetException(source, $"data[{i}] ({entry.AudioPath}) has label '{label}', which is not in the label list ({Labels.Count} classes)");
    }

    public void Dispose()
    {
        (Train as IDisposable)?.Dispose();
        (Eval as IDisposable)?.Dispose();
    }
}
