namespace ActorTraining.Host.Tests;

public class CliTests
{
    [Fact]
    public void HelpListsTheVerbs()
    {
        var r = Cli.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("info", r.Stdout);
    }

    [Fact]
    public void VersionPrintsTheAssemblyVersion()
    {
        var r = Cli.Run("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Stdout.Trim());
    }

    [Fact]
    public void UnknownVerbIsAnErrorThatNamesIt()
    {
        var r = Cli.Run("frobnicate");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("frobnicate", r.Stderr + r.Stdout);
    }

    [Fact]
    public void UnknownOptionIsAnError()
    {
        var r = Cli.Run("info", "--no-such-option");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--no-such-option", r.Stderr + r.Stdout);
    }

    [Fact]
    public void InfoLoadsTheNativeTorchBackend()
    {
        var r = Cli.Run("info");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("libtorch 2.10", r.Stdout);
    }
}
