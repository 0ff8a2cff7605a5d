using Xunit.Abstractions;

namespace ActorTraining.Host.Tests;

/// <summary>
/// A journal written by an earlier build (tests/fixtures/journal-v1: Akka's Newtonsoft serializer with CLR type names,
/// before MessageSerializer) still loads: `status` on it prints exactly what that build's `status` printed.
/// </summary>
public sealed class JournalCompatibilityTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("journal-v1-").FullName;

    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "journal-v1", name);

    [Fact]
    public void AJournalInTheFormatBeforeStableManifestsLoadsAndReadsAsItDidThen()
    {
        File.Copy(Fixture("journal.db"), Path.Combine(_dir, "journal.db"));
        File.Copy(Fixture("run-id"), Path.Combine(_dir, "run-id"));
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "status", "--run-dir", _dir);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal(File.ReadAllText(Fixture("status.txt")).TrimEnd(), r.Stdout.TrimEnd());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
