using ActorTraining.Compute.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// HTS-AT as RetroCirce/HTS-Audio-Transformer model/htsat.py's HTSAT_Swin_Transformer with the token-semantic head
/// (enable_tscam), from the log-mel spectrogram on: bn0, the time-to-image fold, patch embedding, Swin stages, the
/// token-semantic convolution. Field names are the reference's state-dict keys (bn0, patch_embed.proj/norm,
/// layers.N.blocks.M.{norm1, attn.relative_position_bias_table, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2},
/// layers.N.downsample.{norm, reduction}, norm, tscam_conv); the reference's `head` Linear, unused by the token-semantic
/// path, is left out, and its resolution-dependent buffers (attn_mask, relative_position_index) are computed for the
/// input at hand rather than stored (<see cref="HtsatConfig"/>: a compressed phase has a smaller image).
/// Forward: [B, T, F] → clipwise logits [B, NumClasses] (the reference's clipwise_output before its sigmoid).
/// <para>bn0 normalises each mel bin with its running statistics in training as in evaluation: the reference uses the
/// batch's statistics while training, which would make a run depend on how its global batch is split over ranks. The
/// input is already normalised by the dataset's statistics (front-end.mean/std); bn0's affine weights still learn.</para>
/// </summary>
public sealed class HtsatModel : AudioModel
{
    private readonly BatchNorm2d bn0;
    private readonly HtsatPatchEmbed patch_embed;
    private readonly ModuleList<SwinStage> layers;
    private readonly LayerNorm norm;
    private readonly Conv2d tscam_conv;

    public HtsatConfig Config { get; }

    public override ModelGeometry Geometry => Config;

    public override string PatchKernelKey => "patch_embed.proj.weight";

    public HtsatModel(HtsatConfig config) : base(nameof(HtsatModel))
    {
        Config = config.Validate();
        bn0 = nn.BatchNorm2d(config.MelBins);
        patch_embed = new HtsatPatchEmbed(config);
        layers = nn.ModuleList(Enumerable.Range(0, config.Stages).Select(s => new SwinStage(config, s)).ToArray());
        norm = nn.LayerNorm(config.NumFeatures);
        tscam_conv = nn.Conv2d(config.NumFeatures, config.NumClasses, kernel_size: (config.HeadKernelHeight, 3), padding: (0, 1));
        RegisterComponents();
        TimmInit.Apply(this);
        foreach (var stage in layers) stage.InitTables();
    }

    public override Tensor forward(Tensor input)
    {
        using var _ = NewDisposeScope();
        var (clipwise, _, _) = Heads(input, framewise: false);
        return clipwise.MoveToOuterDisposeScope();
    }

    /// <summary>The clip's representation before the token-semantic convolution, [B, NumFeatures]: the reference's latent_output.</summary>
    public override Tensor Embed(Tensor input)
    {
        using var _ = NewDisposeScope();
        var (_, _, latent) = Heads(input, framewise: false);
        return latent.MoveToOuterDisposeScope();
    }

    /// <summary>Per-frame class probabilities [B, T, NumClasses]: the reference's framewise_output (the sigmoid of each
    /// token-semantic column, repeated over the frames it covers).</summary>
    public Tensor Framewise(Tensor input)
    {
        using var _ = NewDisposeScope();
        var (_, framewise, _) = Heads(input, framewise: true);
        return framewise!.MoveToOuterDisposeScope();
    }

    private (Tensor Clipwise, Tensor? Framewise, Tensor Latent) Heads(Tensor input, bool framewise)
    {
        var c = Config;
        if (input.dim() != 3 || input.shape[1] != c.TargetLength || input.shape[2] != c.MelBins)
            throw new ArgumentException($"HtsatModel expects [B, {c.TargetLength}, {c.MelBins}] (B, TargetLength, MelBins), got [{string.Join(", ", input.shape)}]");
        long b = input.shape[0];
        // bn0 over the mel bins, with running statistics (see the class comment)
        var x = nn.functional.batch_norm(input.unsqueeze(1).transpose(1, 3), bn0.running_mean, bn0.running_var, bn0.weight, bn0.bias,
            training: false, momentum: 0.1, eps: 1e-5).transpose(1, 3); // [B, 1, T, F]
        // reshape_wav2img, without its interpolation up to a fixed size: [B, 1, T, F] → [B, 1, r·F, T / r]
        int r = c.FreqRatio;
        x = x.permute(0, 1, 3, 2).reshape(b, 1, c.MelBins, r, c.TargetLength / r).permute(0, 1, 3, 2, 4).reshape(b, 1, c.ImageHeight, c.ImageWidth);
        x = patch_embed.forward(x);
        foreach (var stage in layers) x = stage.forward(x);
        x = norm.forward(x); // [B, N, C]
        // the token-semantic head: the last stage's grid, its r time chunks put back one after another along time
        var (height, width) = c.ResolutionOf(c.Stages - 1);
        long channels = x.shape[2];
        int rows = height / r;
        x = x.permute(0, 2, 1).reshape(b, channels, r, rows, width).permute(0, 1, 3, 2, 4).reshape(b, channels, rows, r * width);
        var latent = x.flatten(2).mean([2]);
        var columns = tscam_conv.forward(x).flatten(2); // [B, classes, r·width]
        var clipwise = columns.mean([2]);
        if (!framewise) return (clipwise, null, latent);
        long frames = c.TargetLength / (r * width); // frames per column, as the reference's interpolate(·, 8 · patch stride)
        var probabilities = columns.sigmoid().permute(0, 2, 1); // [B, columns, classes]
        var repeated = probabilities.unsqueeze(2).expand(b, r * width, frames, c.NumClasses).reshape(b, c.TargetLength, c.NumClasses);
        return (clipwise, repeated, latent);
    }
}

/// <summary>The reference's PatchEmbed: Conv2d(1, EmbedDim, (PatchSize, PatchT), same stride) then LayerNorm, tokens row-major.</summary>
internal sealed class HtsatPatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;
    private readonly LayerNorm norm;

    public HtsatPatchEmbed(HtsatConfig config) : base(nameof(HtsatPatchEmbed))
    {
        proj = nn.Conv2d(1, config.EmbedDim, kernel_size: (config.PatchSize, config.PatchT), stride: (config.PatchSize, config.PatchT));
        norm = nn.LayerNorm(config.EmbedDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image) => norm.forward(proj.forward(image).flatten(2).transpose(1, 2));
}

/// <summary>One stage (the reference's BasicLayer): its Swin blocks, then a patch merging unless it is the last.</summary>
internal sealed class SwinStage : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<SwinBlock> blocks;
    private readonly PatchMerging? downsample;

    public SwinStage(HtsatConfig config, int stage) : base(nameof(SwinStage))
    {
        var (height, width) = config.ResolutionOf(stage);
        var (window, shift) = config.WindowOf(stage);
        int dim = config.DimOf(stage);
        blocks = nn.ModuleList(Enumerable.Range(0, config.StageDepths[stage])
            .Select(i => new SwinBlock(dim, config.StageHeads[stage], config.Window, window, i % 2 == 0 ? 0 : shift, height, width)).ToArray());
        downsample = stage < config.Stages - 1 ? new PatchMerging(dim, height, width) : null;
        RegisterComponents();
    }

    public void InitTables()
    {
        foreach (var block in blocks) block.InitTable();
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var block in blocks) x = block.forward(x);
        return downsample is null ? x : downsample.forward(x);
    }
}

/// <summary>The reference's SwinTransformerBlock: (shifted) window attention and an MLP, each behind a LayerNorm and a residual.</summary>
internal sealed class SwinBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly WindowAttention attn;
    private readonly LayerNorm norm2;
    private readonly Mlp mlp;
    private readonly int _window, _shift, _height, _width;
    private Tensor? _mask; // the shifted windows' attention mask for this block's resolution, on the input's device

    public SwinBlock(int dim, int heads, int tableWindow, int window, int shift, int height, int width) : base(nameof(SwinBlock))
    {
        (_window, _shift, _height, _width) = (window, shift, height, width);
        norm1 = nn.LayerNorm(dim);
        attn = new WindowAttention(dim, heads, tableWindow, window);
        norm2 = nn.LayerNorm(dim);
        mlp = new Mlp(dim, 4 * dim);
        RegisterComponents();
    }

    public void InitTable() => attn.InitTable();

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], c = x.shape[2];
        int w = _window;
        var shortcut = x;
        var grid = norm1.forward(x).view(b, _height, _width, c);
        if (_shift > 0) grid = grid.roll([-_shift, -_shift], [1, 2]);
        // window_partition: [B, H, W, C] → [B·nW, w·w, C]
        var windows = grid.view(b, _height / w, w, _width / w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c);
        var attended = attn.forward(windows, _shift > 0 ? Mask(x.device) : null);
        // window_reverse
        grid = attended.view(b, _height / w, _width / w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, _height, _width, c);
        if (_shift > 0) grid = grid.roll([_shift, _shift], [1, 2]);
        x = shortcut.Plus(grid.reshape(b, _height * _width, c));
        return x.Plus(mlp.forward(norm2.forward(x)));
    }

    /// <summary>
    /// The reference's attn_mask: after the cyclic shift a window may hold tokens of up to four regions that are not
    /// neighbours in the image; a token attends only within its own region (−100 added elsewhere). [nW, w·w, w·w].
    /// </summary>
    private Tensor Mask(Device device)
    {
        if (_mask is not null && Same(_mask.device, device)) return _mask;
        int w = _window, s = _shift, across = _width / w, windows = _height / w * across, n = w * w;
        int Region(int at, int size) => at < size - w ? 0 : at < size - s ? 1 : 2;
        var values = new float[windows * n * n];
        for (int win = 0; win < windows; win++)
        {
            int top = win / across * w, left = win % across * w;
            for (int p = 0; p < n; p++)
            {
                int labelP = Region(top + p / w, _height) * 3 + Region(left + p % w, _width);
                for (int q = 0; q < n; q++)
                {
                    int labelQ = Region(top + q / w, _height) * 3 + Region(left + q % w, _width);
                    values[(win * n + p) * n + q] = labelP == labelQ ? 0f : -100f;
                }
            }
        }
        _mask?.Dispose();
        _mask = tensor(values, [windows, n, n], device: device).DetachFromDisposeScope();
        return _mask;
    }

    /// <summary>Whether two devices are the same one (type and index).</summary>
    internal static bool Same(Device a, Device b) => a.type == b.type && a.index == b.index;

    protected override void Dispose(bool disposing)
    {
        if (disposing) _mask?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// The reference's WindowAttention: multi-head self-attention within a window, plus a learned bias per relative position
/// from a (2·tableWindow − 1)² × heads table. A window smaller than the table's (a stage smaller than the configured
/// window) reads the table's centre: the same offsets, the same learned values.
/// </summary>
internal sealed class WindowAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Parameter relative_position_bias_table;
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly int _heads;
    private readonly double _scale;
    private readonly long[] _index; // relative_position_index for this window, flattened
    private Tensor? _indexTensor;

    public WindowAttention(int dim, int heads, int tableWindow, int window) : base(nameof(WindowAttention))
    {
        _heads = heads;
        _scale = Math.Pow(dim / heads, -0.5);
        int side = 2 * tableWindow - 1, n = window * window;
        relative_position_bias_table = nn.Parameter(zeros(side * side, heads));
        qkv = nn.Linear(dim, 3 * dim);
        proj = nn.Linear(dim, dim);
        RegisterComponents();
        _index = new long[n * n];
        for (int p = 0; p < n; p++)
            for (int q = 0; q < n; q++)
            {
                int dh = p / window - q / window + tableWindow - 1, dw = p % window - q % window + tableWindow - 1;
                _index[p * n + q] = dh * side + dw;
            }
    }

    public void InitTable() => TimmInit.TruncNormal(relative_position_bias_table);

    public override Tensor forward(Tensor x, Tensor? mask)
    {
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        var heads = qkv.forward(x).reshape(b, n, 3, _heads, c / _heads).permute(2, 0, 3, 1, 4);
        using var scalars = new ScalarScope();
        var q = heads[0].mul(scalars.Of(_scale));
        var attention = q.matmul(heads[1].transpose(-2, -1));
        if (_indexTensor is null || !SwinBlock.Same(_indexTensor.device, x.device))
        {
            _indexTensor?.Dispose();
            _indexTensor = tensor(_index, device: x.device).DetachFromDisposeScope();
        }
        var bias = relative_position_bias_table.index_select(0, _indexTensor).view(n, n, _heads).permute(2, 0, 1);
        attention = attention.Plus(bias.unsqueeze(0));
        if (mask is not null)
        {
            long windows = mask.shape[0];
            attention = attention.view(b / windows, windows, _heads, n, n).Plus(mask.unsqueeze(1).unsqueeze(0)).view(-1, _heads, n, n);
        }
        var attended = attention.softmax(-1).matmul(heads[2]);
        return proj.forward(attended.transpose(1, 2).reshape(b, n, c));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _indexTensor?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The reference's PatchMerging: each 2 × 2 neighbourhood concatenated (x0 x1 x2 x3 order), LayerNorm(4C), Linear(4C → 2C, no bias).</summary>
internal sealed class PatchMerging : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear reduction;
    private readonly int _height, _width;

    public PatchMerging(int dim, int height, int width) : base(nameof(PatchMerging))
    {
        (_height, _width) = (height, width);
        norm = nn.LayerNorm(4 * dim);
        reduction = nn.Linear(4 * dim, 2 * dim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], c = x.shape[2];
        var grid = x.view(b, _height, _width, c);
        TensorIndex Even() => TensorIndex.Slice(0, null, 2);
        TensorIndex Odd() => TensorIndex.Slice(1, null, 2);
        var x0 = grid[TensorIndex.Colon, Even(), Even(), TensorIndex.Colon];
        var x1 = grid[TensorIndex.Colon, Odd(), Even(), TensorIndex.Colon];
        var x2 = grid[TensorIndex.Colon, Even(), Odd(), TensorIndex.Colon];
        var x3 = grid[TensorIndex.Colon, Odd(), Odd(), TensorIndex.Colon];
        var merged = cat([x0, x1, x2, x3], -1).view(b, -1, 4 * c);
        return reduction.forward(norm.forward(merged));
    }
}
