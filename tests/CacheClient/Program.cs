using ActorTraining.Compute.Features;

// write DIR MAX_BYTES COUNT FRAMES TAG: stores COUNT synthetic fbanks (keys TAG-i, 64 mel), then reads the last few
// back, and prints "stored S refused R evicted E bytes B hits H".
// hold DIR MAX_BYTES TAG I: reads TAG-I, prints "holding PACK", waits for a line on stdin, reads it again, prints "again ok" (or "again miss").
if (args.Length < 3) { Console.Error.WriteLine("usage: write DIR MAX_BYTES COUNT FRAMES TAG | hold DIR MAX_BYTES TAG I"); return 2; }
var cache = FeatureCache.OpenPrivate(new FeatureCacheSettings(args[1], FeaturePrecision.Float32, long.Parse(args[2])));
switch (args[0])
{
    case "write":
    {
        int count = int.Parse(args[3]), frames = int.Parse(args[4]);
        long stored = 0;
        for (int i = 0; i < count; i++)
        {
            if (cache.Store(CacheEntries.Key(args[5], i), CacheEntries.Stamp, CacheEntries.Values(args[5], i, frames), frames, frames * 160)) stored++;
            if (i % 10 == 0) Console.WriteLine($"progress {i}");
        }
        int hits = Enumerable.Range(Math.Max(0, count - 3), Math.Min(3, count))
            .Count(i => cache.Read(CacheEntries.Key(args[5], i), CacheEntries.Stamp)?.Values.SequenceEqual(CacheEntries.Values(args[5], i, frames)) == true);
        var s = cache.Statistics;
        Console.WriteLine($"stored {stored} refused {s.Refused} evicted {s.Evicted} bytes {s.Bytes} hits {hits}");
        break;
    }
    case "hold":
    {
        var key = CacheEntries.Key(args[3], int.Parse(args[4]));
        if (cache.Read(key, CacheEntries.Stamp) is null) { Console.WriteLine("miss"); return 1; }
        Console.WriteLine($"holding {cache.Locate(key)?.Pack}");
        Console.ReadLine();
        Console.WriteLine(cache.Read(key, CacheEntries.Stamp) is null ? "again miss" : "again ok");
        break;
    }
}
cache.Dispose();
return 0;
