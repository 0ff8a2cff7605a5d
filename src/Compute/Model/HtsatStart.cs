using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// <c>model.init = htsat:&lt;file&gt;</c>: an HTS-AT run's first weights from a reference checkpoint — a released
/// Lightning <c>.ckpt</c> (HTSAT_AudioSet_Saved_*.ckpt: <c>state_dict</c>, every key under <c>sed_model.</c>) or a plain
/// state dict of HTSAT_Swin_Transformer. Left behind: torchlibrosa's front end (this model reads our fbank), the
/// resolution buffers (attn_mask, relative_position_index: computed here for each phase) and the unused <c>head</c>. A
/// token-semantic head of another class count keeps its seeded initialisation, with a note, as <c>ast:</c> does.
/// </summary>
public static class HtsatStart
{
    const string LightningPrefix = "sed_model.";
    static readonly string[] FrontEnd = ["spectrogram_extractor.", "logmel_extractor."];
    const string Head = "tscam_conv.", HeadKernel = "tscam_conv.weight";

    /// <summary>The first phase's model: <paramref name="fine"/> from the seed's draw, loaded, carried to <paramref name="phase"/> when coarser.</summary>
    public static HtsatModel Build(HtsatConfig fine, HtsatConfig phase, ModelInit init, out IReadOnlyList<string> notes) =>
        PretrainedStart.Build(new HtsatModel(fine), phase, model =>
        {
            init.RequireUnchanged();
            return Load(model, init.Path);
        }, out notes);

    public static IReadOnlyList<string> Load(HtsatModel model, string path)
    {
        using var scope = NewDisposeScope();
        var raw = PyTorchStateDict.Read(path);
        bool lightning = raw.Keys.Any(k => k.StartsWith(LightningPrefix, StringComparison.Ordinal));
        var source = raw
            .Where(kv => !lightning || kv.Key.StartsWith(LightningPrefix, StringComparison.Ordinal))
            .Select(kv => (Key: lightning ? kv.Key[LightningPrefix.Length..] : kv.Key, kv.Value))
            .Where(kv => !FrontEnd.Any(kv.Key.StartsWith) && !kv.Key.StartsWith("head.", StringComparison.Ordinal)
                && !kv.Key.EndsWith(".attn_mask", StringComparison.Ordinal) && !kv.Key.EndsWith(".relative_position_index", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var destination = model.state_dict();
        var unexpected = source.Keys.Where(k => !destination.ContainsKey(k)).ToList();
        var missing = destination.Keys.Where(k => !source.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{path}: not an HTS-AT of the run's depths ({Describe(model.Config)}; model.htsat): " +
                PretrainedStart.KeyMismatch(missing, unexpected));

        string geometry = $"{Describe(model.Config)}; model.htsat, model.mel-bins";
        var notes = new List<string>();
        long[] theirHead = source[HeadKernel].shape, ourHead = destination[HeadKernel].shape;
        if (!theirHead.Skip(1).SequenceEqual(ourHead.Skip(1))) throw PretrainedStart.ShapeMismatch(path, HeadKernel, theirHead, ourHead, geometry);
        bool otherClasses = theirHead[0] != ourHead[0];
        if (otherClasses) notes.Add($"its token-semantic head has {theirHead[0]} classes, the run {model.Config.NumClasses}: tscam_conv starts from the seed");
        var taken = source.Where(kv => !otherClasses || !kv.Key.StartsWith(Head, StringComparison.Ordinal)).ToList();
        foreach (var (key, value) in taken)
            if (!value.shape.SequenceEqual(destination[key].shape)) throw PretrainedStart.ShapeMismatch(path, key, value.shape, destination[key].shape, geometry);
        using var noGrad = no_grad();
        foreach (var (key, value) in taken) destination[key].copy_(value.to(destination[key].dtype));
        return notes;
    }

    static string Describe(HtsatConfig c) =>
        $"embed {c.EmbedDim}, depths [{string.Join(", ", c.Depths)}], heads [{string.Join(", ", c.Heads)}], window {c.Window}, {c.MelBins} mel";
}
