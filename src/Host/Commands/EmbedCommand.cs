using System.CommandLine;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Features;
using ActorTraining.Host.Running;
using ActorTraining.Messages;

namespace ActorTraining.Host.Commands;

/// <summary>
/// `actortraining embed &lt;audio...&gt; --checkpoint K --out x.npy`: each clip's representation before the classifier head
/// (the mean of the final cls and dist tokens, transformers' <c>pooler_output</c>), one float32 row per readable clip in
/// argument order; <c>x.npy.txt</c> names the clip of each row. A clip longer than the model's input is embedded from
/// its first input length, as training and evaluation see it.
/// </summary>
public static class EmbedCommand
{
    public static Command Create()
    {
        var audio = new Argument<string[]>("audio") { Description = "Audio files to embed", Arity = ArgumentArity.OneOrMore };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file written by train", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the float32 [clips, embed-dim] .npy (and its row list, <out>.txt)", Required = true };
        var command = new Command("embed", "Write clip embeddings (the pooled representation before the head) as a .npy matrix") { audio, checkpoint, output };
        command.SetAction(async (parse, cancel) =>
        {
            var files = parse.GetValue(audio)!.Select(Path.GetFullPath).ToList();
            foreach (var f in files)
                if (!File.Exists(f)) throw new FileNotFoundException($"{f}: no such audio file", f);
            var outPath = Path.GetFullPath(parse.GetValue(output)!);
            var embedded = await CheckpointJob.Run<ClipScores>(parse.GetValue(checkpoint)!, files.Select(f => new DatasetEntry(f, [])).ToList(),
                ScoreOutput.Embeddings, parse.GetValue(CliErrors.Verbose));
            var rows = embedded.Positions!.Select(p => files[(int)p]).ToList();
            int dim = embedded.Scores[0].Length;
            NpyFile.Write(outPath, embedded.Scores.SelectMany(r => r).ToArray(), rows.Count, dim);
            File.WriteAllLines(outPath + ".txt", rows);
            foreach (var skipped in files.Except(rows)) Console.Error.WriteLine($"warning: skipped unreadable audio {skipped} (no row)");
            Console.WriteLine($"{outPath}: {rows.Count} clips × {dim} dims (rows named in {outPath}.txt)");
            return 0;
        });
        return command;
    }
}
