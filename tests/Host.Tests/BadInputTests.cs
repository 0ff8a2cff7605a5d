namespace ActorTraining.Host.Tests;

/// <summary>Bad data given to `train`: one clear line naming the file, key or value; no stack trace.</summary>
public sealed class BadInputTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("bad-input-").FullName;

    Cli.Result Train(string train, string eval, string labels) => Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train",
        "--run-dir", Path.Combine(_dir, "run"), "--set", "data.source=datafile", "--set", $"data.train={train}",
        "--set", $"data.eval={eval}", "--set", $"data.labels={labels}", "--set", "compare=[]");

    string Labels()
    {
        var csv = Path.Combine(_dir, "labels.csv");
        File.WriteAllText(csv, "index,mid,display_name\n0,/m/a,\"A\"\n1,/m/b,\"B\"\n");
        return csv;
    }

    string Datafile(string name, string json)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void ARunDirectoryWhoseJournalPredatesRunIdsIsRefusedNotStartedOver()
    {
        var run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "journal.db"), "");
        var missing = Path.Combine(_dir, "nope.json");
        var r = Train(missing, missing, Labels());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"error: {run}: its journal.db has no run-id file beside it", r.Stderr);
        Assert.False(File.Exists(Path.Combine(run, "run-id")));
    }

    [Fact]
    public void AMissingDatafileIsNamed()
    {
        var missing = Path.Combine(_dir, "nope.json");
        var r = Train(missing, missing, Labels());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(missing, r.Stderr);
        Assert.Contains("not found", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void ALabelNotInTheCsvIsNamed()
    {
        var wav = Path.Combine(_dir, "a.wav");
        File.WriteAllBytes(wav, []);
        var data = Datafile("train.json", $$"""{"data":[{"wav":"{{wav}}","labels":"/m/a"},{"wav":"{{wav}}","labels":"/m/zebra"}]}""");
        var r = Train(data, data, Labels());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("/m/zebra", r.Stderr);
        Assert.Contains("data[1]", r.Stderr);
    }

    [Fact]
    public void AnEmptyCorpusIsAClearError()
    {
        var data = Datafile("empty.json", """{"data":[]}""");
        var r = Train(data, data, Labels());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("empty corpus", r.Stderr);
        Assert.Contains(data, r.Stderr);
    }

    [Fact]
    public void AnUnknownConfigKeyIsNamed()
    {
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "run"), "--set", "training.batch-sise=4");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("training.batch-sise", r.Stderr);
    }

    [Fact]
    public void ADeviceThatIsNotHereIsNamedWithWhatIs()
    {
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "run"), "--set", "training.devices=[\"cuda:3\"]");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: training.devices: device 'cuda:3' is not here (this process sees cpu; a GPU needs the CUDA build, -p:TorchBackend=cuda, and a driver)", r.Stderr.Trim());
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
        var info = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "info");
        Assert.Contains("devices: cpu", info.Stdout);
    }

    [Fact]
    public void AManagementPortThatIsTakenIsOneLineNamingIt()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "run"), "--management-port", port.ToString());
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: --management-port: 127.0.0.1:{port} cannot be bound (Address already in use); choose a free port", r.Stderr.Trim());
    }

    [Fact]
    public void DiscoveryBesideSeedNodesIsOneLine()
    {
        var r = Cli.RunIn(_dir, TimeSpan.FromMinutes(1), "train", "--run-dir", Path.Combine(_dir, "run"), "--node", "127.0.0.1:4053",
            "--seed-nodes", "127.0.0.1:4053", "--discovery", "config:127.0.0.1:8558", "--postgres", "Host=127.0.0.1;Port=1;Username=nobody");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: --discovery: finds the cluster in place of --seed-nodes; give one of them", r.Stderr.Trim());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
