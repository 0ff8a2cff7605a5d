using System.Diagnostics;
using System.Text.Json;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;

namespace ActorTraining.Compute.Tests.Data.Shards;

/// <summary>Our shards against Python's tarfile with WebDataset's grouping (its base_plus_ext regex), both ways, and damaged shards.</summary>
public sealed class ShardFilesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("shard-files-").FullName;
    static readonly LabelSet Labels = new(["/m/a", "/m/b", "dog"], ["a", "b", "dog"]);

    public void Dispose() => Directory.Delete(_dir, true);

    static string Python(string script)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(script);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "python3 did not finish");
        Assert.True(p.ExitCode == 0, error.Result);
        return output.Result;
    }

    [Fact]
    public void ReadsAWebDatasetShardWrittenByPythonsTarfile()
    {
        var shard = Path.Combine(_dir, "py.tar");
        Python($$"""
            import tarfile, io, json
            def add(t, name, data):
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
            with tarfile.open("{{shard}}", "w", format=tarfile.PAX_FORMAT) as t:
                add(t, "clips/k1.flac", b"fLaC" + b"x" * 100)
                add(t, "clips/k1.json", json.dumps({"labels": "/m/a,/m/b"}).encode())
                add(t, "clips/k2.seg0.wav", b"RIFF" + b"y" * 50)
                add(t, "clips/k2.cls", b"2")
                add(t, "README", b"no dot: not a member of any sample")
                add(t, "clips/k3.txt", b"a sample without audio")
            """);
        var members = ShardMembers.Scan(shard);
        Assert.Null(members.Problem);
        Assert.Equal(["clips/k1", "clips/k2", "clips/k3"], members.Samples.Select(s => s.Key));
        var first = ShardSample.Read(shard, "py.tar", members.Samples[0], Labels);
        Assert.Equal(("flac", 104), (first.AudioExtension, first.Audio.Length));
        Assert.Equal(["/m/a", "/m/b"], first.Labels);
        Assert.Equal("fLaC", System.Text.Encoding.ASCII.GetString(first.Audio, 0, 4));
        var second = ShardSample.Read(shard, "py.tar", members.Samples[1], Labels);
        Assert.Equal("wav", second.AudioExtension);
        Assert.Equal(["dog"], second.Labels);
        var none = Assert.Throws<DatasetException>(() => ShardSample.Read(shard, "py.tar", members.Samples[2], Labels));
        Assert.Equal("py.tar: sample 'clips/k3': has no audio member (members: txt)", none.Message);
    }

    [Fact]
    public void OurShardsReadWithPythonAsWebDatasetGroupsThem()
    {
        var audio = Directory.CreateDirectory(Path.Combine(_dir, "audio")).FullName;
        var entries = new List<DatasetEntry>();
        for (int i = 0; i < 5; i++)
        {
            var file = Path.Combine(audio, $"Y{i}abc_30.000.flac"); // AudioSet's dotted names
            File.WriteAllBytes(file, Enumerable.Repeat((byte)i, 3000 + i).ToArray());
            entries.Add(new DatasetEntry(file, [i % 2 == 0 ? "/m/a" : "/m/b"]));
        }
        var written = new ShardWriter(Path.Combine(_dir, "out"), "train", targetBytes: 8000).Write(entries, audio, _ => { }, _ => { });
        Assert.True(written.Count >= 2);
        var grouped = Python($$"""
            import tarfile, re, json, glob
            out = []
            for path in sorted(glob.glob("{{_dir}}/out/train-*.tar")):
                with tarfile.open(path) as t:
                    current = None
                    for m in t.getmembers():
                        key, ext = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", m.name).groups()  # webdataset.tariterators.base_plus_ext
                        if current is None or current["__key__"] != key:
                            current = {"__key__": key}; out.append(current)
                        data = t.extractfile(m).read()
                        current[ext] = json.loads(data)["labels"] if ext == "json" else len(data)
            print(json.dumps(out))
            """);
        var samples = JsonDocument.Parse(grouped).RootElement.EnumerateArray().ToList();
        Assert.Equal(5, samples.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal($"00000000{i}_Y{i}abc_30_000", samples[i].GetProperty("__key__").GetString());
            Assert.Equal(3000 + i, samples[i].GetProperty("flac").GetInt32());
            Assert.Equal(i % 2 == 0 ? "/m/a" : "/m/b", samples[i].GetProperty("json").GetString());
        }
        var index = ShardIndexFile.Parse(File.ReadAllText(Path.Combine(_dir, "out", "index.json")), "index.json");
        Assert.Equal(written, index.Shards);
        Assert.Equal(5, index.Shards.Sum(s => s.Samples));
    }

    [Fact]
    public void AKilledShardRunResumesAfterItsLastWholeShardWithTheSameBytes()
    {
        var audio = Directory.CreateDirectory(Path.Combine(_dir, "audio")).FullName;
        var entries = Enumerable.Range(0, 9).Select(i =>
        {
            var file = Path.Combine(audio, $"c{i}.wav");
            File.WriteAllBytes(file, Enumerable.Repeat((byte)i, 2000).ToArray());
            return new DatasetEntry(file, ["dog"]);
        }).ToList();
        var straight = new ShardWriter(Path.Combine(_dir, "a"), "t", 4500).Write(entries, audio, _ => { }, _ => { });
        // killed while writing its third shard: two recorded, a part file left behind
        var writer = new ShardWriter(Path.Combine(_dir, "b"), "t", 4500);
        Assert.Throws<OperationCanceledException>(() => writer.Write(entries, audio, p => { if (p.Shards == 2) throw new OperationCanceledException(); }, _ => { }));
        Assert.True(File.Exists(Path.Combine(_dir, "b", "t-000002.tar.part")));
        int reported = 0;
        var resumed = writer.Write(entries, audio, _ => reported++, _ => { });
        Assert.Equal(straight, resumed);
        Assert.True(reported < entries.Count, "the resumed run wrote the first shards again");
        foreach (var s in straight) Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "a", s.Name)), File.ReadAllBytes(Path.Combine(_dir, "b", s.Name)));
    }

    [Fact]
    public void ATruncatedShardKeepsItsWholeSamplesAndGarbageIsNotATar()
    {
        var audio = Directory.CreateDirectory(Path.Combine(_dir, "audio")).FullName;
        var entries = Enumerable.Range(0, 4).Select(i =>
        {
            var file = Path.Combine(audio, $"c{i}.wav");
            File.WriteAllBytes(file, new byte[5000]);
            return new DatasetEntry(file, ["dog"]);
        }).ToList();
        var shard = new ShardWriter(Path.Combine(_dir, "t"), "t", 1 << 20).Write(entries, audio, _ => { }, _ => { }).Single();
        var path = Path.Combine(_dir, "t", shard.Name);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var truncated = ShardMembers.Scan(path);
        Assert.InRange(truncated.Samples.Count, 1, 3);
        Assert.Contains("truncated", truncated.Problem);
        File.WriteAllBytes(path, Enumerable.Range(0, 10000).Select(i => (byte)(i * 7)).ToArray());
        var garbage = ShardMembers.Scan(path);
        Assert.Empty(garbage.Samples);
        Assert.StartsWith("not a tar archive", garbage.Problem);
    }
}
