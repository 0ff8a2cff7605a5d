using ActorTraining.Compute.Data;

namespace ActorTraining.Compute.Tests.Data;

public sealed class SampleWeightsTests
{
    static readonly LabelSet Labels = new(["/m/a", "/m/b", "/m/c"], ["a", "b", "c"]);

    [Fact]
    public void LabelFrequencyWeightsAreTheReferencesGenWeightFile()
    {
        // /m/a in 3 clips, /m/b in 2, /m/c in none: label weights 1000/3.01, 1000/2.01; a clip sums its labels'
        var entries = new List<DatasetEntry>
        {
            new("x0", ["/m/a"]), new("x1", ["/m/a", "/m/b"]), new("x2", ["/m/a"]), new("x3", ["/m/b"]),
        };
        var w = SampleWeights.FromLabelFrequencies(entries, Labels);
        Assert.Equal(1000 / 3.01, w[0], 9);
        Assert.Equal(1000 / 3.01 + 1000 / 2.01, w[1], 9);
        Assert.Equal(1000 / 3.01, w[2], 9);
        Assert.Equal(1000 / 2.01, w[3], 9);
    }

    [Fact]
    public void DrawsFallInEachClipsShareAndNeverOnAZeroWeight()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "1.000000000000000000e+00\n0\n3.0e0\n"); // numpy.savetxt's format, and plain numbers
            var w = SampleWeights.FromCsv(path, 3);
            Assert.Equal(0, w.Draw(0.0));
            Assert.Equal(0, w.Draw(0.2499));
            Assert.Equal(2, w.Draw(0.25)); // clip 1 has weight 0: its share is empty
            Assert.Equal(2, w.Draw(0.9999));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("1\n2\n", "2 weights for 3 training clips")]
    [InlineData("1\nx\n2\n", ":2: 'x' is not a number")]
    [InlineData("1\n-2\n2\n", "weight 2 is -2")]
    [InlineData("0\n0\n0\n", "at least one must be positive")]
    public void ABadWeightFileIsNamedWithItsLine(string content, string reason)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, content);
            var error = Assert.Throws<InvalidDataException>(() => SampleWeights.FromCsv(path, 3));
            Assert.StartsWith(path, error.Message);
            Assert.Contains(reason, error.Message);
        }
        finally { File.Delete(path); }
    }
}
