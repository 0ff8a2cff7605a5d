using System.Text.Json;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Training;

public class MetricsTests
{
    [Fact]
    public void SmallCaseMatchesHandComputation()
    {
        // class 0: targets 1,0,1,0,1 with scores .9,.4,.35,.8,.1 → ranked +,−,−,+,+ :
        // AP = ⅓·1 + ⅓·(2/4) + ⅓·(3/5) = 0.7; AUC = positives above negatives / pairs = 2/6.
        float[,] s = { { 0.9f, 0.2f }, { 0.4f, 0.3f }, { 0.35f, 0.8f }, { 0.8f, 0.1f }, { 0.1f, 0.7f } };
        float[,] t = { { 1, 0 }, { 0, 1 }, { 1, 0 }, { 0, 1 }, { 1, 0 } };
        var stats = Metrics.Compute(s, t);
        Assert.Equal(0.7, stats.AveragePrecision[0], 12);
        Assert.Equal(2.0 / 6, stats.Auc[0], 12);
        Assert.Equal(0.2, stats.Accuracy, 12);   // only clip 0 has its argmax on its label
    }

    [Fact]
    public void TiesCountAsOneThresholdAsSklearnDoes()
    {
        // all scores equal: one threshold → AP = prevalence, AUC = 0.5
        var scores = new double[] { 0.5, 0.5, 0.5, 0.5 };
        var positive = new[] { true, false, false, true };
        Assert.Equal(0.5, Metrics.AveragePrecision(scores, positive), 12);
        Assert.Equal(0.5, Metrics.RocAuc(scores, positive), 12);
        Assert.True(double.IsNaN(Metrics.RocAuc(scores, [false, false, false, false])));
    }

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.025, -1.959963984540054)]
    [InlineData(0.999, 3.090232306167813)]
    [InlineData(1e-10, -6.361340902404056)]
    public void NormalQuantileMatchesKnownValues(double p, double z) =>
        Assert.Equal(z, Metrics.NormalQuantile(p), 12);

    /// <summary>Fixtures/metrics_fixture.json: sklearn 1.2.1 + scipy 1.10.1 with AST stats.py semantics
    /// (made by Fixtures/make_metrics_fixture.py with Debian's python3-sklearn).</summary>
    [Theory]
    [InlineData("multilabel")]
    [InlineData("singlelabel_ties")]
    [InlineData("small")]
    public void MatchesSklearnAsUsedByTheAstReference(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics_fixture.json")));
        var fixture = doc.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var scores = Matrix(fixture.GetProperty("scores"));
        var targets = Matrix(fixture.GetProperty("targets"));
        var expected = fixture.GetProperty("expected");
        var stats = Metrics.Compute(scores, targets);
        Assert.Equal(Doubles(expected.GetProperty("ap")), stats.AveragePrecision.Select(x => Math.Round(x, 12)));
        Assert.Equal(Doubles(expected.GetProperty("auc")), stats.Auc.Select(x => Math.Round(x, 12)));
        Assert.Equal(expected.GetProperty("mAP").GetDouble(), stats.MeanAveragePrecision, 12);
        Assert.Equal(expected.GetProperty("mAUC").GetDouble(), stats.MeanAuc, 12);
        Assert.Equal(expected.GetProperty("dprime").GetDouble(), stats.DPrime, 12);
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), stats.Accuracy, 12);
        Assert.Equal(stats.Accuracy, stats.Get("accuracy"));
        Assert.Equal(stats.MeanAveragePrecision, stats.Get("map"));
    }

    static IEnumerable<double> Doubles(JsonElement array) => array.EnumerateArray().Select(e => Math.Round(e.GetDouble(), 12));

    static float[,] Matrix(JsonElement rows)
    {
        var list = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        var m = new float[list.Length, list[0].Length];
        for (int i = 0; i < list.Length; i++) for (int j = 0; j < list[i].Length; j++) m[i, j] = list[i][j];
        return m;
    }
}
