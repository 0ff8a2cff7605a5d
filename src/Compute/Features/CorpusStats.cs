using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Audio;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Features;

/// <summary>
/// A corpus's fbank mean and std the way the AST reference computes them (src/get_norm_stats.py): un-normalised
/// fbank padded/cut to target_length, grouped in batches of 1000 clips in corpus order; per batch the mean and
/// the (unbiased) std over every cell; the result is the average of the batch means and of the batch stds.
/// (The reference script leaves its training augmentation on; here no mixup or masking is applied.)
/// </summary>
public static class CorpusStats
{
    public const int ReferenceBatchSize = 1000;

    public static (double Mean, double Std) Compute(IEnumerable<string> audioPaths, FbankOptions options, int targetLength) =>
        Compute(audioPaths, options, targetLength, onSkipped: null);

    /// <summary>onSkipped null: an undecodable file throws. Otherwise it is reported and left out.</summary>
    public static (double Mean, double Std) Compute(IEnumerable<string> audioPaths, FbankOptions options, int targetLength,
        Action<AudioDecodeException>? onSkipped, int batchSize = ReferenceBatchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var extractor = new FbankExtractor(options);
        var decode = new DecodeOptions(options.SampleRate);
        var means = new List<double>();
        var stds = new List<double>();
        double sum = 0, sumSquares = 0;
        long cells = 0;
        int inBatch = 0;

        void CloseBatch()
        {
            if (inBatch == 0) return;
            double mean = sum / cells;
            means.Add(mean);
            stds.Add(Math.Sqrt(Math.Max(0, (sumSquares - sum * mean) / Math.Max(1, cells - 1))));
            sum = sumSquares = 0;
            cells = 0;
            inBatch = 0;
        }

        foreach (var path in audioPaths)
        {
            float[] wave;
            try { wave = AudioDecoder.Decode(path, decode); }
            catch (AudioDecodeException e) when (onSkipped is not null)
            {
                onSkipped(e);
                continue;
            }
            using var scope = NewDisposeScope();
            var padded = AstPreprocessing.PadOrCut(extractor.Compute(wave), targetLength).to(float64);
            sum += padded.sum().item<double>();
            sumSquares += padded.Squared().sum().item<double>();
            cells += padded.numel();
            if (++inBatch == batchSize) CloseBatch();
        }
        CloseBatch();
        if (means.Count == 0) throw new InvalidDataException("no clip could be decoded, so there are no statistics");
        return (means.Average(), stds.Average());
    }
}
