using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ActorTraining.Compute.Reporting;

/// <summary>
/// Per-epoch metrics of one run directory: metrics.jsonl (one <see cref="EpochRecord"/> per line, appended and
/// flushed to disk) and metrics.csv (rewritten from the JSONL after each append, atomically). One directory may
/// hold several runs (e.g. the curriculum and its baseline), told apart by <see cref="EpochRecord.Run"/>.
/// A resumed run that logs an epoch again replaces the earlier line for that (run, phase, epoch) when read; a weight
/// average's line (<see cref="EpochRecord.IsWeightAverage"/>) comes after its phase's epochs.
/// </summary>
public sealed class RunLog(string runDirectory)
{
    public const string JsonlName = "metrics.jsonl", CsvName = "metrics.csv";

    // d′ is infinite when every class separates perfectly (mAUC = 1) and a metric can be NaN: write them as named literals.
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string JsonlPath { get; } = Path.Combine(runDirectory, JsonlName);
    public string CsvPath { get; } = Path.Combine(runDirectory, CsvName);

    public void Append(EpochRecord record)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(JsonlPath)!);
        using (var stream = new FileStream(JsonlPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
        {
            stream.SetLength(CompleteLength(stream));   // drop a line torn by a crash mid-write
            stream.Seek(0, SeekOrigin.End);
            var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, Json) + "\n");
            stream.Write(line);
            stream.Flush(flushToDisk: true);
        }
        var tmp = CsvPath + ".tmp";
        File.WriteAllText(tmp, ToCsv(Read(JsonlPath)));
        File.Move(tmp, CsvPath, overwrite: true);
    }

    public IReadOnlyList<EpochRecord> Read() => Read(JsonlPath);

    // Length up to and including the last newline.
    static long CompleteLength(FileStream stream)
    {
        for (long pos = stream.Length - 1; pos >= 0; pos--)
        {
            stream.Seek(pos, SeekOrigin.Begin);
            if (stream.ReadByte() == '\n') return pos + 1;
        }
        return 0;
    }

    /// <summary>Records of a metrics.jsonl grouped by run (in order of first appearance), each run's ordered by
    /// phase and epoch, the last line winning for a repeated (run, phase, epoch).
    /// A torn last line (crash mid-write) is ignored; any other bad line is an error naming file and line.</summary>
    public static IReadOnlyList<EpochRecord> Read(string jsonlPath)
    {
        if (!File.Exists(jsonlPath)) throw new FileNotFoundException($"{jsonlPath}: no metrics log (is this a run directory?)", jsonlPath);
        var lines = File.ReadAllLines(jsonlPath);
        var byKey = new Dictionary<(string, int, int, bool), EpochRecord>();
        var runs = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            EpochRecord? r;
            try { r = JsonSerializer.Deserialize<EpochRecord>(lines[i], Json); }
            catch (JsonException e) when (i == lines.Length - 1) { _ = e; continue; }
            catch (JsonException e) { throw new InvalidDataException($"{jsonlPath}:{i + 1}: not a metrics record (malformed JSON at {Data.JsonSyntax.Describe(e)})"); }
            if (r is null) continue;
            if (!runs.Contains(r.Run)) runs.Add(r.Run);
            byKey[(r.Run, r.PhaseIndex, r.Epoch, r.IsWeightAverage)] = r;
        }
        return byKey.Values.OrderBy(r => runs.IndexOf(r.Run)).ThenBy(r => r.PhaseIndex).ThenBy(r => r.IsWeightAverage).ThenBy(r => r.Epoch).ToArray();
    }

    static readonly string[] Columns =
    [
        "run", "phase", "method", "factor", "pooling", "tokens_per_clip", "epoch", "run_epoch", "step", "lr", "train_loss",
        "eval_loss", "metric_name", "metric", "mAP", "mAUC", "d_prime", "accuracy", "cumulative_flops", "wall_seconds",
        "trainer_idle_seconds", "scheduler", "weight_average", "mse", "grad_norm_max",
    ];

    public static string ToCsv(IEnumerable<EpochRecord> records)
    {
        var sb = new StringBuilder(string.Join(',', Columns)).Append('\n');
        foreach (var r in records)
        {
            object[] cells = [Quote(r.Run), r.PhaseIndex, r.Method, r.Factor, r.Pooling, r.TokensPerClip, r.Epoch, r.RunEpoch, r.Step, r.Lr,
                r.TrainLoss, r.EvalLoss, r.MetricName, r.Metric, r.MeanAveragePrecision, r.MeanAuc, r.DPrime, r.Accuracy,
                r.CumulativeFlops, r.WallSeconds, r.TrainerIdleSeconds, Quote(r.Scheduler ?? ""),
                r.IsWeightAverage ? $"{r.AveragedFrom}-{r.AveragedTo}" : "", r.Mse is { } mse ? mse : "", r.GradNormMax is { } g ? g : ""];
            sb.AppendJoin(',', cells.Select(c => c is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(c, CultureInfo.InvariantCulture)))
              .Append('\n');
        }
        return sb.ToString();
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
