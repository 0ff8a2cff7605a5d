using ActorTraining.Compute.Reporting;

namespace ActorTraining.Host.Tests;

/// <summary>The event-file writer read back by an independent reader (<see cref="TensorBoardReader"/>).</summary>
public sealed class TensorBoardEventsTests : IDisposable
{
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tensorboard-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void ScalarsTextAndSessionStartsReadBackWithTheirStepsAndValidChecksums()
    {
        string path;
        using (var events = new TensorBoardEvents(_dir.FullName))
        {
            path = events.Path;
            events.SessionStart(7);
            events.Scalar("step/loss", 7, 1.25);
            events.Scalar("epoch/accuracy", 300_000_000_000, 0.5);
            events.Text("phase", 9, "**pool** C = 4 → ü");
        }
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(path));
        var read = TensorBoardReader.Read(path);
        Assert.Equal("brain.Event:2", read[0].FileVersion);
        Assert.Equal((7L, 1), (read[1].Step, read[1].SessionStatus!.Value));
        Assert.Equal(new TensorBoardReader.Value("step/loss", 1.25f, null, null), read[2].Values.Single());
        Assert.Equal(300_000_000_000, read[3].Step);
        Assert.Equal(new TensorBoardReader.Value("phase", null, "**pool** C = 4 → ü", "text"), read[4].Values.Single());
        Assert.All(read, e => Assert.InRange(e.WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1));
    }

    [Fact]
    public void TheReaderRejectsAFlippedByteSoTheChecksumsAreReallyChecked()
    {
        string path;
        using (var events = new TensorBoardEvents(_dir.FullName))
        {
            path = events.Path;
            events.Scalar("x", 1, 2);
        }
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 1; // inside the last record's data
        File.WriteAllBytes(path, bytes);
        Assert.Contains("data CRC wrong", Assert.Throws<InvalidDataException>(() => TensorBoardReader.Read(path)).Message);
    }

    [Fact]
    public void TwoWritersInOneFolderNeverShareAFile()
    {
        using var a = new TensorBoardEvents(_dir.FullName);
        using var b = new TensorBoardEvents(_dir.FullName);
        Assert.NotEqual(a.Path, b.Path);
    }
}
