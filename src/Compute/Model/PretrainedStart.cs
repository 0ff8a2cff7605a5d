using ActorTraining.Compute.Checkpoints;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// A run's first weights from a pretrained model (<see cref="ModelInit"/>). Every source is read into our key names
/// with the patch grid it was trained at, then adapted to the run's fine (C = 1) geometry as the AST reference adapts
/// ImageNet and AudioSet weights (ast_models.py): the positional grid centre-cropped along an axis that shrinks and
/// bilinearly interpolated along one that grows, time first, cls/dist positions kept; a patch kernel of another shape
/// PI-resized (an RGB one summed over channels first). A head of another class count keeps its seeded
/// initialisation, with a notice. A coarse first phase then gets the fine weights through <see cref="PhaseTransfer"/>,
/// like any phase change: its time axis is the clip's, compressed, not a shorter clip, so it is interpolated, not cropped.
/// An SSAST pretraining checkpoint is adapted the same way, as the reference's fine-tuning stage does (its patch kernel
/// kept, applied at the run's strides; its grid, pretrained without overlap, cropped or interpolated to the run's).
/// </summary>
public static class PretrainedStart
{
    /// <summary>The reference's published AST checkpoints are 128 mel bins at frequency stride 10, 12, 14 or 16: these
    /// frequency grids, tried in order, tell a reference .pth's grid from its token count (1212 = 12 × 101 for AudioSet,
    /// 144 = 12 × 12 for Speech Commands, 850 = 10 × 85, 657 = 9 × 73, 512 = 8 × 64).</summary>
    static readonly int[] ReferenceFrequencyGrids = [12, 10, 9, 8];

    sealed record Source(Dictionary<string, Tensor> State, int FDim, int TDim, string Origin);

    /// <summary>
    /// The first phase's model: a model of <paramref name="fine"/> drawn from the current generator (so its head is the
    /// seed's), loaded from <paramref name="init"/>, and carried to <paramref name="phase"/> when that is coarser.
    /// <paramref name="notes"/> says what was not taken over (a head, a patch resize).
    /// </summary>
    public static AstModel Build(AstConfig fine, AstConfig phase, ModelInit init, out IReadOnlyList<string> notes) =>
        Build(new AstModel(fine), phase, model => Load(model, init), out notes);

    /// <summary><paramref name="model"/> (the fine geometry) after <paramref name="load"/>, carried to <paramref name="phase"/> when that is coarser.</summary>
    internal static T Build<T>(T model, ModelGeometry phase, Func<T, IReadOnlyList<string>> load, out IReadOnlyList<string> notes) where T : AudioModel
    {
        try
        {
            notes = load(model);
            if (phase == model.Geometry) return model;
            var coarse = PhaseTransfer.Transfer(model, phase);
            model.Dispose();
            return coarse;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads <paramref name="init"/> into <paramref name="model"/> after checking its content is the one configured.</summary>
    public static IReadOnlyList<string> Load(AstModel model, ModelInit init)
    {
        init.RequireUnchanged();
        using var scope = NewDisposeScope();
        var source = init.Kind switch
        {
            ModelInitKind.DeiT => ReadDeiT(init.Path),
            ModelInitKind.Ast => ReadReferenceAst(init.Path),
            ModelInitKind.HuggingFace => ReadHuggingFace(init.Path, model.Config),
            ModelInitKind.Checkpoint => ReadCheckpoint(init.Path),
            _ => throw new ArgumentOutOfRangeException(nameof(init)),
        };
        return Adapt(model, source);
    }

    /// <summary>ImageNet DeiT weights into <paramref name="model"/>, as the reference's imagenet_pretrain.</summary>
    public static IReadOnlyList<string> LoadDeiT(AstModel model, string path)
    {
        using var scope = NewDisposeScope();
        return Adapt(model, ReadDeiT(path));
    }

    static Source ReadDeiT(string path)
    {
        var raw = AstWeights.ReadStateDict(path);
        if (!raw.ContainsKey("pos_embed") || !raw.ContainsKey("dist_token"))
            throw new InvalidDataException($"{path}: not a distilled DeiT checkpoint (no pos_embed/dist_token; a distilled DeiT is required)");
        // the classifier heads of ImageNet are not the AST's; the AST's mlp_head keeps its initialisation
        var state = raw.Where(kv => !kv.Key.StartsWith("head.", StringComparison.Ordinal) && !kv.Key.StartsWith("head_dist.", StringComparison.Ordinal))
            .ToDictionary(kv => "v." + kv.Key, kv => kv.Value);
        var grid = SquareGrid(state["v.pos_embed"], path);
        return new Source(state, grid, grid, path);
    }

    static Source ReadReferenceAst(string path)
    {
        var raw = AstWeights.ReadStateDict(path);
        if (raw.TryGetValue("p_input_fdim", out var inputF) && raw.TryGetValue("p_input_tdim", out var inputT) && raw.TryGetValue("v.patch_embed.proj.weight", out var kernel))
        {
            // an SSAST pretraining checkpoint (YuanGongND/ssast): its encoder, as the reference's fine-tuning stage takes it;
            // its grid is the pretraining input over the patch (no overlap while pretraining), which it records
            int gridF = (int)(inputF.to_type(ScalarType.Int64).item<long>() / kernel.shape[2]), gridT = (int)(inputT.to_type(ScalarType.Int64).item<long>() / kernel.shape[3]);
            return new Source(raw.Where(kv => kv.Key.StartsWith("v.", StringComparison.Ordinal) && !AstWeights.IsUnusedTimmHead(kv.Key))
                .ToDictionary(kv => kv.Key, kv => kv.Value), gridF, gridT, path);
        }
        var state = raw.Where(kv => !AstWeights.IsUnusedTimmHead(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        if (!state.TryGetValue("v.pos_embed", out var pos))
            throw new InvalidDataException($"{path}: not an AST state dict (no v.pos_embed); for ImageNet DeiT weights use deit:, for a Hugging Face folder hf:");
        long tokens = pos.shape[1] - 2;
        int f = ReferenceFrequencyGrids.FirstOrDefault(g => tokens % g == 0);
        if (f == 0)
            throw new InvalidDataException($"{path}: {tokens} patch positions are not a 128-mel grid at stride 10, 12, 14 or 16; " +
                "convert it to a Hugging Face folder (hf:) whose config.json states its geometry");
        return new Source(state, f, (int)(tokens / f), path);
    }

    static Source ReadHuggingFace(string folder, AstConfig run)
    {
        var read = HuggingFaceAst.Read(folder);
        if (read.Geometry.Heads != run.Heads)
            throw new InvalidDataException($"{folder}: num_attention_heads = {read.Geometry.Heads}, the run's model has {run.Heads} (model.heads / model.size)");
        return new Source(read.State, read.Geometry.FDim, read.Geometry.TDim, folder);
    }

    /// <summary>One of our checkpoints: an AST's, or an SSAST pretraining's — its encoder <c>v</c> only, as the reference's
    /// fine-tuning stage takes it (the pretext heads and the mask embedding stay behind; the run's head from its seed).</summary>
    static Source ReadCheckpoint(string path)
    {
        var header = CheckpointFile.ReadHeader(path);
        var geometry = header.Model.Ast ?? throw new ArgumentException($"{path}: a checkpoint of an {header.Model.Name}; this run trains an AST");
        using var source = AudioModel.Create(header.Model);
        CheckpointFile.Load(path, source, null);
        var state = source.state_dict().Where(kv => !header.Model.Pretraining || kv.Key.StartsWith("v.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        return new Source(state, geometry.FDim, geometry.TDim, path);
    }

    static int SquareGrid(Tensor pos, string path)
    {
        long tokens = pos.shape[1] - 2;
        int side = (int)Math.Round(Math.Sqrt(tokens));
        if (side * side != tokens) throw new InvalidDataException($"{path}: pos_embed has {tokens} grid positions, not a square grid");
        return side;
    }

    static IReadOnlyList<string> Adapt(AstModel model, Source source)
    {
        var config = model.Config;
        var destination = model.state_dict();
        var notes = new List<string>();
        var unexpected = source.State.Keys.Where(k => !destination.ContainsKey(k)).ToList();
        var missing = destination.Keys.Where(k => !source.State.ContainsKey(k) && !k.StartsWith("mlp_head.", StringComparison.Ordinal)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{source.Origin}: its weights do not fit the run's AST ({Describe(config)}; model.depth / model.size): " +
                KeyMismatch(missing, unexpected));

        var target = new Dictionary<string, Tensor>();
        foreach (var (key, value) in source.State)
        {
            var wanted = destination[key].shape;
            var adapted = key switch
            {
                "v.pos_embed" => AdaptPosEmbed(value, source.FDim, source.TDim, config, source.Origin),
                "v.patch_embed.proj.weight" => AdaptPatchKernel(value, config, notes),
                _ => value,
            };
            if (key.StartsWith("mlp_head.", StringComparison.Ordinal) && !adapted.shape.SequenceEqual(wanted)) continue;
            if (!adapted.shape.SequenceEqual(wanted))
                throw ShapeMismatch(source.Origin, key, value.shape, wanted, $"{Describe(config)}; model.embed-dim / model.size");
            target[key] = adapted;
        }
        var head = destination.Keys.Where(k => k.StartsWith("mlp_head.", StringComparison.Ordinal)).ToList();
        if (!head.All(target.ContainsKey))
        {
            foreach (var key in head) target.Remove(key);
            notes.Add(source.State.TryGetValue("mlp_head.1.weight", out var theirs)
                ? $"its head has {theirs.shape[0]} classes, the run {config.NumClasses}: the head starts from the run's seed"
                : "it has no AST head: the head starts from the run's seed");
        }
        using var noGrad = no_grad();
        foreach (var (key, value) in target)
            destination[key].copy_(value.to(destination[key].dtype));
        return notes;
    }

    static string Describe(AstConfig c) => $"embed dim {c.EmbedDim}, depth {c.Depth}, {c.NumClasses} classes";

    /// <summary>"missing [...], unexpected [...]", six keys of each at most: what a pretrained file lacks or has over the run's model.</summary>
    internal static string KeyMismatch(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected) =>
        $"missing [{string.Join(", ", missing.Take(6))}{(missing.Count > 6 ? ", …" : "")}], unexpected [{string.Join(", ", unexpected.Take(6))}{(unexpected.Count > 6 ? ", …" : "")}]";

    /// <summary>A pretrained weight whose shape is not the run's model's, naming the file, the key and <paramref name="model"/>.</summary>
    internal static InvalidDataException ShapeMismatch(string origin, string key, long[] theirs, long[] wanted, string model) =>
        new($"{origin}: '{key}' has shape [{string.Join(", ", theirs)}], the run's model needs [{string.Join(", ", wanted)}] ({model})");

    static Tensor AdaptPatchKernel(Tensor kernel, AstConfig config, List<string> notes)
    {
        var mono = kernel.shape[1] == 1 ? kernel : kernel.sum(dim: 1, keepdim: true);
        if (mono.shape[2] == config.PatchF && mono.shape[3] == config.PatchT) return mono;
        notes.Add($"its {mono.shape[2]}×{mono.shape[3]} patch kernel is PI-resized to {config.PatchF}×{config.PatchT}");
        return PiResize.Resize(mono, config.PatchF, config.PatchT);
    }

    /// <summary>[1, 2 + f·t, D] at grid (f, t) → the config's grid, as ast_models.py: time axis first — centre crop when
    /// it shrinks, bilinear when it grows — then frequency the same way.</summary>
    static Tensor AdaptPosEmbed(Tensor pos, int fromF, int fromT, AstConfig config, string origin)
    {
        long dim = pos.shape[2];
        if (pos.shape[1] - 2 != (long)fromF * fromT)
            throw new InvalidDataException($"{origin}: pos_embed has {pos.shape[1] - 2} grid positions, its geometry says {fromF} × {fromT}");
        var grid = pos[.., 2..].transpose(1, 2).reshape(1, dim, fromF, fromT);
        int f = config.FDim, t = config.TDim;
        grid = t <= fromT
            ? grid[.., .., .., (fromT / 2 - t / 2)..(fromT / 2 - t / 2 + t)]
            : nn.functional.interpolate(grid, new long[] { fromF, t }, mode: InterpolationMode.Bilinear, align_corners: false);
        grid = f <= fromF
            ? grid[.., .., (fromF / 2 - f / 2)..(fromF / 2 - f / 2 + f), ..]
            : nn.functional.interpolate(grid, new long[] { f, t }, mode: InterpolationMode.Bilinear, align_corners: false);
        return cat(new[] { pos[.., ..2], grid.reshape(1, dim, f * t).transpose(1, 2) }, dim: 1);
    }
}
