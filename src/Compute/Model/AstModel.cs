using ActorTraining.Compute.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// Audio Spectrogram Transformer as YuanGongND/ast ast_models.py (a DeiT-distilled ViT). Field names are the
/// reference's state-dict keys: v.patch_embed.proj, v.pos_embed, v.cls_token, v.dist_token, v.blocks.N.*, v.norm,
/// mlp_head.0 (LayerNorm), mlp_head.1 (Linear). Forward: [B, T, F] → logits [B, NumClasses].
/// </summary>
public sealed class AstModel : AudioModel
{
    private readonly DistilledVit v;
    private readonly Sequential mlp_head;

    public AstConfig Config { get; }

    public override ModelGeometry Geometry => Config;

    public override string PatchKernelKey => "v.patch_embed.proj.weight";

    public AstModel(AstConfig config) : base(nameof(AstModel))
    {
        Config = config.Validate();
        v = new DistilledVit(config);
        mlp_head = nn.Sequential(
            nn.LayerNorm(config.EmbedDim, eps: 1e-5), // reference: nn.LayerNorm(dim) with PyTorch's default eps
            nn.Linear(config.EmbedDim, config.NumClasses));
        RegisterComponents();
        TimmInit.Apply(mlp_head);
    }

    public override Tensor forward(Tensor input)
    {
        using var _ = NewDisposeScope();
        return mlp_head.forward(Embed(input)).MoveToOuterDisposeScope();
    }

    /// <summary>The clip's representation before the head, [B, EmbedDim], from the normalised tokens: the mean of cls and
    /// dist (the reference's (x[:, 0] + x[:, 1]) / 2; transformers' pooler_output), or with <see cref="AstPooling.MeanTokens"/>
    /// the mean of the patch tokens (SSAST's ft_avgtok: torch.mean(x[:, cls_token_num:, :], dim=1)).</summary>
    public override Tensor Embed(Tensor input)
    {
        if (input.dim() != 3 || input.shape[1] != Config.TargetLength || input.shape[2] != Config.MelBins)
            throw new ArgumentException(
                $"AstModel expects [B, {Config.TargetLength}, {Config.MelBins}] (B, TargetLength, MelBins), got [{string.Join(", ", input.shape)}]");
        using var _ = NewDisposeScope();
        var tokens = v.forward(input.unsqueeze(1).transpose(2, 3)); // [B, 1, F, T]
        if (Config.Pooling == AstPooling.MeanTokens) return tokens[.., 2..].mean([1]).MoveToOuterDisposeScope();
        using var n = new ScalarScope();
        return tokens[.., 0].Plus(tokens[.., 1]).div(n.Of(2.0)).MoveToOuterDisposeScope();
    }
}

/// <summary>timm's VisionTransformer/DistilledVisionTransformer, the `v` of AST.</summary>
internal sealed class DistilledVit : nn.Module<Tensor, Tensor>
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter cls_token;
    private readonly Parameter dist_token;
    private readonly Parameter pos_embed;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm norm;

    public DistilledVit(AstConfig config) : base(nameof(DistilledVit))
    {
        int dim = config.EmbedDim;
        patch_embed = new PatchEmbed(config);
        cls_token = nn.Parameter(zeros(1, 1, dim));
        dist_token = nn.Parameter(zeros(1, 1, dim));
        pos_embed = nn.Parameter(zeros(1, config.NumTokens, dim));
        blocks = nn.ModuleList(Enumerable.Range(0, config.Depth).Select(_ => new TransformerBlock(dim, config.Heads)).ToArray());
        norm = nn.LayerNorm(dim, eps: 1e-6);
        RegisterComponents();
        using (no_grad())
        {
            TimmInit.TruncNormal(pos_embed);
            TimmInit.TruncNormal(cls_token);
            TimmInit.TruncNormal(dist_token);
        }
        TimmInit.Apply(this);
    }

    public override Tensor forward(Tensor image) => Encode(image, null);

    /// <summary>The forward with <paramref name="alterPatches"/> applied to the patch embeddings [B, N, D] before the
    /// tokens and positions are added (SSAST's masking).</summary>
    public Tensor Encode(Tensor image, Func<Tensor, Tensor>? alterPatches)
    {
        var x = patch_embed.forward(image); // [B, N, D]
        if (alterPatches is not null) x = alterPatches(x);
        long batch = x.shape[0];
        x = cat(new[] { cls_token.expand(batch, -1, -1), dist_token.expand(batch, -1, -1), x }, dim: 1);
        x = x.Plus(pos_embed);
        foreach (var block in blocks) x = block.forward(x);
        return norm.forward(x);
    }
}

internal sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;

    public PatchEmbed(AstConfig config) : base(nameof(PatchEmbed))
    {
        proj = nn.Conv2d(1, config.EmbedDim, kernel_size: (config.PatchF, config.PatchT),
            stride: (config.FStride, config.TStride));
        RegisterComponents();
    }

    // [B, 1, F, T] → [B, f_dim·t_dim, D]; token order is frequency-major, as flatten(2) in timm.
    public override Tensor forward(Tensor image) => proj.forward(image).flatten(2).transpose(1, 2);
}

internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly SelfAttention attn;
    private readonly LayerNorm norm2;
    private readonly Mlp mlp;

    public TransformerBlock(int dim, int heads) : base(nameof(TransformerBlock))
    {
        norm1 = nn.LayerNorm(dim, eps: 1e-6);
        attn = new SelfAttention(dim, heads);
        norm2 = nn.LayerNorm(dim, eps: 1e-6);
        mlp = new Mlp(dim, 4 * dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x.Plus(attn.forward(norm1.forward(x)));
        return x.Plus(mlp.forward(norm2.forward(x)));
    }
}

internal sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly int heads;

    public SelfAttention(int dim, int heads) : base(nameof(SelfAttention))
    {
        this.heads = heads;
        qkv = nn.Linear(dim, 3 * dim, hasBias: true);
        proj = nn.Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        var qkvHeads = qkv.forward(x).reshape(b, n, 3, heads, c / heads).permute(2, 0, 3, 1, 4);
        var attended = nn.functional.scaled_dot_product_attention(qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        return proj.forward(attended.transpose(1, 2).reshape(b, n, c));
    }
}

internal sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public Mlp(int dim, int hidden) : base(nameof(Mlp))
    {
        fc1 = nn.Linear(dim, hidden);
        fc2 = nn.Linear(hidden, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(nn.functional.gelu(fc1.forward(x)));
}

/// <summary>timm's _init_weights: trunc_normal(std .02) Linear weights, zero biases, LayerNorm ones/zeros.
/// The patch Conv2d keeps PyTorch's default init, as in timm.</summary>
internal static class TimmInit
{
    /// <summary>timm's trunc_normal_(std .02, a −2, b 2) by inverse CDF. TorchSharp 0.107's
    /// nn.init.trunc_normal_ returns values of order 1e-9 here, so it is not used.</summary>
    public static void TruncNormal(Tensor t, double std = 0.02, double a = -2, double b = 2)
    {
        using var _ = no_grad();
        double lower = NormalCdf(a / std), upper = NormalCdf(b / std);
        using var n = new ScalarScope();
        t.uniform_(2 * lower - 1, 2 * upper - 1).erfinv_().mul_(n.Of(std * Math.Sqrt(2))).clamp_(n.Of(a), n.Of(b));
    }

    private static double NormalCdf(double x) => (1 + Erf(x / Math.Sqrt(2))) / 2;

    // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7); only the truncation bounds use it, far in the tails here.
    private static double Erf(double x)
    {
        double sign = Math.Sign(x), ax = Math.Abs(x), k = 1 / (1 + 0.3275911 * ax);
        double y = 1 - (((((1.061405429 * k - 1.453152027) * k) + 1.421413741) * k - 0.284496736) * k + 0.254829592) * k * Math.Exp(-ax * ax);
        return sign * y;
    }

    public static void Apply(nn.Module root)
    {
        using var _ = no_grad();
        foreach (var (_, module) in root.named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    TruncNormal(linear.weight!);
                    if (linear.bias is not null) nn.init.zeros_(linear.bias);
                    break;
                case LayerNorm layerNorm:
                    nn.init.ones_(layerNorm.weight!);
                    nn.init.zeros_(layerNorm.bias!);
                    break;
            }
        }
    }
}
