using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Training;

/// <summary>
/// The gathered result of an evaluation does not depend on how many evaluators shared it or in which order their
/// batches (and parts of batches) arrived: scores, loss and every metric are the same bytes; repeats are ignored; a
/// result before every batch is in is refused.
/// </summary>
public sealed class EvaluationGatherTests
{
    const int Classes = 5, BatchSize = 4, Clips = 22; // 6 batches, the last of 2

    static float[] Target(long position) => Enumerable.Range(0, Classes).Select(c => c == position % Classes || c == (position * 7) % Classes ? 1f : 0f).ToArray();

    // what an evaluator sends for batch k: rows (some clip unreadable), their scores in parts, the loss sum in part 0
    static IEnumerable<(long Batch, int Part, int Parts, long[] Positions, float[] Scores, double Loss)> Batch(long k, int rowsPerPart)
    {
        var random = new Random((int)k);
        var positions = Enumerable.Range((int)(k * BatchSize), (int)Math.Min(BatchSize, Clips - k * BatchSize)).Select(p => (long)p)
            .Where(p => p != 9).ToArray(); // clip 9 could not be read
        var scores = positions.SelectMany(_ => Enumerable.Range(0, Classes).Select(_ => (float)random.NextDouble())).ToArray();
        double loss = random.NextDouble() * positions.Length;
        int parts = Math.Max(1, (positions.Length + rowsPerPart - 1) / rowsPerPart);
        for (int p = 0; p < parts; p++)
        {
            int first = p * rowsPerPart, count = Math.Min(rowsPerPart, positions.Length - first);
            yield return (k, p, parts, positions[first..(first + count)], scores[(first * Classes)..((first + count) * Classes)], p == 0 ? loss : 0);
        }
    }

    static EvaluationResult Gather(int shards, int rowsPerPart, int seed)
    {
        var gather = new EvaluationGather((Clips + BatchSize - 1) / BatchSize, Target);
        var messages = Enumerable.Range(0, shards).SelectMany(s => Enumerable.Range(0, 6).Where(k => k % shards == s).SelectMany(k => Batch(k, rowsPerPart))).ToList();
        var random = new Random(seed);
        foreach (var m in messages.OrderBy(_ => random.Next())) gather.Add(m.Batch, m.Part, m.Parts, m.Positions, m.Scores, m.Loss);
        Assert.False(gather.Add(messages[0].Batch, messages[0].Part, messages[0].Parts, messages[0].Positions, messages[0].Scores, 99)); // a repeat
        Assert.True(gather.Complete);
        return gather.Result();
    }

    [Fact]
    public void OneTwoOrThreeShardsInAnyOrderGiveTheSameBytes()
    {
        var one = Gather(1, rowsPerPart: 4, seed: 1);
        Assert.Equal(Clips - 1, one.Scores.GetLength(0));
        foreach (var (shards, rows, seed) in new[] { (2, 4, 2), (3, 1, 3), (3, 3, 4) })
        {
            var other = Gather(shards, rows, seed);
            Assert.Equal(one.Scores.Cast<float>(), other.Scores.Cast<float>());
            Assert.Equal(one.Targets.Cast<float>(), other.Targets.Cast<float>());
            Assert.Equal(BitConverter.DoubleToInt64Bits(one.Loss), BitConverter.DoubleToInt64Bits(other.Loss));
            Assert.Equal(one.Stats.MeanAveragePrecision, other.Stats.MeanAveragePrecision);
            Assert.Equal(one.Stats.MeanAuc, other.Stats.MeanAuc);
            Assert.Equal(one.Stats.Accuracy, other.Stats.Accuracy);
        }
    }

    [Fact]
    public void AResultBeforeEveryBatchIsInIsRefused()
    {
        var gather = new EvaluationGather(2, Target);
        foreach (var m in Batch(0, 4)) gather.Add(m.Batch, m.Part, m.Parts, m.Positions, m.Scores, m.Loss);
        Assert.False(gather.Complete);
        Assert.Contains("1 of 2 batches", Assert.Throws<InvalidOperationException>(() => gather.Result()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => gather.Add(2, 0, 1, [], [], 0));
    }
}
