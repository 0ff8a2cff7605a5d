using System.Diagnostics;
using ActorTraining.Compute.Features;
using Xunit.Abstractions;

namespace ActorTraining.Compute.Tests.Features;

/// <summary>
/// One feature cache folder shared by processes (tests/CacheClient is the other process): two writers stay under one
/// limit, evicting each other's packs; a pack a second process holds open is never evicted while others are; a writer
/// killed mid-write leaves nothing that is served damaged.
/// </summary>
public sealed class SharedFeatureCacheTests(ITestOutputHelper output) : IDisposable
{
    const int Frames = 1000; // 256 kB records, four to a 1 MB pack
    readonly string _folder = Directory.CreateTempSubdirectory("actortraining-shared-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static Process Client(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ActorTraining.CacheClient.dll"));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        return Process.Start(psi)!;
    }

    static string Finish(Process client, TimeSpan within)
    {
        var stdout = client.StandardOutput.ReadToEndAsync();
        if (!client.WaitForExit(within)) { client.Kill(); throw new TimeoutException($"cache client still running after {within}"); }
        Assert.True(client.ExitCode == 0, $"cache client exit {client.ExitCode}: {client.StandardError.ReadToEnd()}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
    }

    long FolderBytes() =>
        Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".pack") || f.EndsWith(".idx"))
            .Sum(f => { try { return new FileInfo(f).Length; } catch (FileNotFoundException) { return 0; } });

    /// <summary>The folder's count, read between changes (opening it takes a shared lock, which fails while a writer changes it).</summary>
    long SpaceCount()
    {
        try
        {
            using var file = new FileStream(Path.Combine(_folder, "space"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var bytes = new byte[8];
            return file.Read(bytes) == 8 ? BitConverter.ToInt64(bytes) : 0;
        }
        catch (IOException) { return 0; }
    }

    /// <summary>Two processes write 30 MB each into a 12 MB folder at once. The folder's count (the space file) never
    /// passes the limit; the files, summed by a listing that is not atomic, pass it by at most a pack; when both are done,
    /// they hold at most the limit; both evicted; every record left reads back as written.</summary>
    [Fact]
    public void TwoProcessesWritingOneFolderStayUnderOneLimit()
    {
        const long limit = 12L << 20;
        using var a = Client("write", _folder, limit.ToString(), "120", Frames.ToString(), "A");
        using var b = Client("write", _folder, limit.ToString(), "120", Frames.ToString(), "B");
        long mostCounted = 0, mostListed = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!(a.HasExited && b.HasExited) && DateTime.UtcNow < deadline)
        {
            if (File.Exists(Path.Combine(_folder, "space"))) mostCounted = Math.Max(mostCounted, SpaceCount());
            mostListed = Math.Max(mostListed, FolderBytes());
            Thread.Sleep(5);
        }
        var (lineA, lineB) = (Finish(a, TimeSpan.FromMinutes(1)), Finish(b, TimeSpan.FromMinutes(1)));
        output.WriteLine($"A: {lineA}\nB: {lineB}\nmost counted {mostCounted}, most listed {mostListed}, at the end {FolderBytes()} (limit {limit})");
        Assert.StartsWith("stored 120 refused 0", lineA);
        Assert.StartsWith("stored 120 refused 0", lineB);
        Assert.EndsWith("hits 3", lineA);
        Assert.EndsWith("hits 3", lineB);
        Assert.InRange(mostCounted, limit / 2, limit);
        Assert.InRange(mostListed, 0, limit + (1L << 20));
        Assert.InRange(FolderBytes(), 0, limit);
        Assert.True(long.Parse(lineA.Split(' ')[5]) > 0 && long.Parse(lineB.Split(' ')[5]) > 0, "both writers evicted");

        using var reader = FeatureCache.OpenPrivate(new FeatureCacheSettings(_folder, FeaturePrecision.Float32, limit));
        int present = 0;
        foreach (var tag in new[] { "A", "B" })
            for (int i = 0; i < 120; i++)
                if (reader.Read(CacheEntries.Key(tag, i), CacheEntries.Stamp) is { } cached)
                {
                    Assert.Equal(CacheEntries.Values(tag, i, Frames), cached.Values);
                    present++;
                }
        output.WriteLine($"{present} of 240 records left, all as written");
        Assert.InRange(present, 20, (int)(limit / (PackRecord.HeaderBytes + Frames * 64 * 4 + PackIndexEntry.Bytes)));
        Assert.Equal(0, reader.Statistics.Corrupt);
    }

    /// <summary>A second process reads a record of the oldest pack and keeps it open; this one writes on past the limit:
    /// the next oldest packs go, the held one stays, and the reader reads its record again.</summary>
    [Fact]
    public void APackASecondProcessHoldsStaysWhileAnotherIsEvicted()
    {
        const long limit = 4L << 20;
        using var cache = FeatureCache.OpenPrivate(new FeatureCacheSettings(_folder, FeaturePrecision.Float32, limit));
        for (int i = 0; i < 8; i++) Assert.True(cache.Store(CacheEntries.Key("h", i), CacheEntries.Stamp, CacheEntries.Values("h", i, Frames), Frames, 1));
        var first = cache.Locate(CacheEntries.Key("h", 0))!.Value.Pack;
        var second = cache.Locate(CacheEntries.Key("h", 4))!.Value.Pack;
        Assert.NotEqual(first, second);

        using var holder = Client("hold", _folder, limit.ToString(), "h", "0");
        var holding = holder.StandardOutput.ReadLine();
        Assert.Equal($"holding {first}", holding);
        File.SetLastAccessTimeUtc(first, DateTime.UtcNow.AddHours(-2)); // the least recently used, by far
        File.SetLastAccessTimeUtc(second, DateTime.UtcNow.AddHours(-1));

        for (int i = 8; i < 20; i++) Assert.True(cache.Store(CacheEntries.Key("h", i), CacheEntries.Stamp, CacheEntries.Values("h", i, Frames), Frames, 1));
        output.WriteLine($"evicted {cache.Statistics.Evicted} packs; the held one {(File.Exists(first) ? "stayed" : "went")}, the next oldest {(File.Exists(second) ? "stayed" : "went")}");
        Assert.True(File.Exists(first));
        Assert.False(File.Exists(second));
        Assert.True(cache.Statistics.Evicted >= 1);
        Assert.Equal(0, cache.Statistics.Refused);

        holder.StandardInput.WriteLine();
        Assert.Equal("again ok", Finish(holder, TimeSpan.FromSeconds(30)));
    }

    /// <summary>A writer killed (SIGKILL) while it appends: the next process that opens the folder finds its live file
    /// unlocked, checks the pack's tail and cuts what is torn; what it serves is what was written, nothing damaged.</summary>
    [Fact]
    public void AWriterKilledMidWriteLeavesNothingServedDamaged()
    {
        using var writer = Client("write", _folder, (1L << 30).ToString(), "100000", Frames.ToString(), "K");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline && writer.StandardOutput.ReadLine() is { } line && line != "progress 60") { }
        writer.Kill(); // SIGKILL, mid-append as likely as not
        writer.WaitForExit(10_000);
        Assert.True(writer.HasExited);

        using var reader = FeatureCache.OpenPrivate(new FeatureCacheSettings(_folder, FeaturePrecision.Float32, 1L << 30));
        int present = 0, i = 0;
        for (; i < 100000 && reader.Read(CacheEntries.Key("K", i), CacheEntries.Stamp) is { } cached; i++)
        {
            Assert.Equal(CacheEntries.Values("K", i, Frames), cached.Values);
            present++;
        }
        for (int k = i; k < i + 50; k++) Assert.Null(reader.Read(CacheEntries.Key("K", k), CacheEntries.Stamp));
        var packs = Directory.GetFiles(Path.Combine(_folder, "packs"), "*.pack").Sum(f => new FileInfo(f).Length);
        output.WriteLine($"{present} records served after the kill; the packs hold {packs} bytes = {present} × {PackRecord.HeaderBytes + Frames * 64 * 4}: {packs == present * (PackRecord.HeaderBytes + Frames * 64 * 4L)}");
        Assert.True(present >= 60);
        Assert.Equal(present * (PackRecord.HeaderBytes + Frames * 64 * 4L), packs); // a torn tail was cut, nothing else lost
        Assert.Equal(0, reader.Statistics.Corrupt);
    }
}
