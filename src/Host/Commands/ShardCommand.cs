using System.CommandLine;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Data.Shards;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining shard &lt;datafile.json | folder&gt; --out DIR`: a corpus as WebDataset shards plus index.json (<see cref="ShardWriter"/>).</summary>
public static class ShardCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "an AST datafile ({\"data\":[{\"wav\":…,\"labels\":…}]}) or a folder with one sub-folder per class" };
        var output = new Option<string>("--out") { Description = "the folder the shards and index.json go to", Required = true };
        var name = new Option<string?>("--name") { Description = "shard name prefix (default: the datafile's or folder's name)" };
        var size = new Option<double>("--shard-mb") { Description = "target shard size in MB", DefaultValueFactory = _ => 256 };
        var command = new Command("shard", "Write a corpus as WebDataset tar shards (audio copied as is) with an index.json; resumable");
        command.Arguments.Add(source);
        command.Options.Add(output);
        command.Options.Add(name);
        command.Options.Add(size);
        command.SetAction(parse =>
        {
            var from = Path.GetFullPath(parse.GetValue(source)!);
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            if (!(parse.GetValue(size) > 0)) throw new ArgumentException($"--shard-mb must be > 0, got {parse.GetValue(size)}");
            var prefix = parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(from.TrimEnd('/'));
            if (prefix.Length == 0 || prefix.Contains('.') || prefix.Contains('/'))
                throw new ArgumentException($"--name '{prefix}' must be non-empty, without dots or slashes (it starts every shard's file name)");
            IReadOnlyList<DatasetEntry> entries;
            CorpusIndex? index = null;
            string baseFolder;
            if (Directory.Exists(from))
            {
                var (list, labels) = FolderCorpus.Load(from);
                entries = list;
                baseFolder = from;
                Directory.CreateDirectory(outDir);
                File.WriteAllLines(Path.Combine(outDir, "class_labels_indices.csv"),
                    ["index,mid,display_name", .. labels.Mids.Select((m, i) => $"{i},{m},{m}")]);
            }
            else
            {
                entries = index = CorpusIndex.OfDatafile(from, indexDirectory: null);
                baseFolder = Path.GetDirectoryName(from)!;
            }
            using var _ = index;
            int skipped = 0;
            var interactive = !Console.IsErrorRedirected;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var lastShown = TimeSpan.Zero;
            var shards = new ShardWriter(outDir, prefix, (long)(parse.GetValue(size) * 1e6)).Write(entries, baseFolder, p =>
            {
                if (!interactive || clock.Elapsed - lastShown < TimeSpan.FromMilliseconds(200)) return;
                lastShown = clock.Elapsed;
                Console.Error.Write($"\rshard: {p.Entries}/{entries.Count} clips ({100.0 * p.Entries / entries.Count:0}%), {p.Shards + 1} shards, {p.Bytes / 1e6:0} MB");
            }, line =>
            {
                skipped++;
                Console.WriteLine($"skipped: {line}");
            });
            if (interactive) Console.Error.WriteLine();
            Console.WriteLine($"{shards.Count} shards, {shards.Sum(s => s.Samples)} samples, {shards.Sum(s => s.Bytes) / 1e6:0.0} MB in {outDir} ({skipped} skipped); index {Path.Combine(outDir, ShardIndexFile.FileName)}");
            return 0;
        });
        return command;
    }
}
