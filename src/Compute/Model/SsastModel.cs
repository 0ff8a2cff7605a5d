using ActorTraining.Compute.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// SSAST's self-supervised pretraining model (YuanGongND/ssast, src/models/ast_models.py, pretrain_stage = True): the
/// AST backbone <c>v</c> on non-overlapping patches (16 × 16, or frames F × 2), a learnable mask embedding that replaces
/// the masked patches' embeddings, and the two pretext heads — <c>cpredlayer</c> (discriminative: each masked patch's
/// output is matched against the masked patches of its clip, InfoNCE, with the pretext accuracy) and <c>gpredlayer</c>
/// (generative: the masked patches' values reconstructed, MSE). Field names are the reference's state-dict keys; its
/// p_input_fdim/p_input_tdim bookkeeping parameters are not weights and are left out (the geometry is the checkpoint's
/// head). The heads predict a patch's PatchF·PatchT values (the reference hard-codes 256, the size of its two shapes).
/// Its forward is the clip's representation (<see cref="Embed"/>); it has no classifier until a supervised run starts
/// from its weights (<c>model.init = checkpoint:</c>, <see cref="PretrainedStart"/>), as the reference's fine-tuning stage.
/// </summary>
public sealed class SsastModel : AudioModel
{
    private readonly DistilledVit v;
    private readonly Sequential cpredlayer;
    private readonly Sequential gpredlayer;
    private readonly Parameter mask_embed;

    /// <summary>The backbone's geometry: patches PatchF × PatchT with strides equal to them (no overlap while pretraining).</summary>
    public AstConfig Config { get; }

    /// <summary>Values per patch: what the heads predict.</summary>
    public int PatchValues => Config.PatchF * Config.PatchT;

    /// <summary>The masking it pretrains on.</summary>
    public SsastPretext Masking { get; }

    public override ModelGeometry Geometry => new(Config, null, Masking);

    public override string PatchKernelKey => "v.patch_embed.proj.weight";

    /// <summary>The mean of the patch tokens' outputs [B, D] (the reference's ft_avgtok pooling, without a head).</summary>
    public override Tensor Embed(Tensor input)
    {
        using var scope = NewDisposeScope();
        var tokens = v.Encode(input.unsqueeze(1).transpose(2, 3), null);
        return tokens[.., 2..].mean([1]).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input) => Embed(input);

    public SsastModel(AstConfig config, SsastPretext? pretext = null) : base(nameof(SsastModel))
    {
        Config = config.Validate();
        Masking = pretext ?? SsastPretext.Reference;
        if (config.FStride != config.PatchF || config.TStride != config.PatchT)
            throw new ArgumentException($"SSAST pretraining splits without overlap: strides {config.FStride}/{config.TStride} must equal the patch {config.PatchF}×{config.PatchT}", nameof(config));
        if (config.MelBins % config.PatchF != 0 || config.TargetLength % config.PatchT != 0)
            throw new ArgumentException($"SSAST pretraining needs whole patches: {config.MelBins} mel × {config.TargetLength} frames by {config.PatchF}×{config.PatchT}", nameof(config));
        int d = config.EmbedDim;
        v = new DistilledVit(config);
        cpredlayer = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, PatchValues));
        gpredlayer = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, PatchValues));
        mask_embed = nn.Parameter(zeros(1, 1, d));
        RegisterComponents();
        TimmInit.Apply(cpredlayer);
        TimmInit.Apply(gpredlayer);
        // xavier_normal_ on [1, 1, d]: fan in = fan out = d, std = sqrt(2 / (2d))
        using (no_grad()) mask_embed.normal_(0, Math.Sqrt(1.0 / d));
    }

    /// <summary>
    /// Both pretext tasks on <paramref name="input"/> [B, T, F], each with its own masked patches [B, M] (the reference
    /// masks the discriminative and the generative pass independently), per clip [B]: the pretext accuracy, the InfoNCE
    /// loss (the reference's nce) and the reconstruction MSE. Every clip masks as many patches, so their means over the
    /// batch are the reference's batch values — and a sum over clips split across ranks is the same sum (the ring's mean
    /// gradient does not depend on the split). Loss as the reference trains: nce + 10 · mse.
    /// </summary>
    public (Tensor Accuracy, Tensor Nce, Tensor Mse) Pretext(Tensor input, Tensor discriminativeMask, Tensor generativeMask)
    {
        using var scope = NewDisposeScope();
        var image = input.unsqueeze(1).transpose(2, 3); // [B, 1, F, T]
        var patches = Patches(image);                    // [B, N, PatchF·PatchT], the reference's unfold
        var (accuracy, nce) = Discriminative(image, patches, discriminativeMask);
        var mse = Generative(image, patches, generativeMask);
        return (accuracy.MoveToOuterDisposeScope(), nce.MoveToOuterDisposeScope(), mse.MoveToOuterDisposeScope());
    }

    /// <summary>The reference's Unfold with kernel = stride = the patch: [B, 1, F, T] → [B, N, PatchF·PatchT], patches
    /// in the patch embedding's order (frequency-major), each patch's values row by row.</summary>
    private Tensor Patches(Tensor image)
    {
        long b = image.shape[0];
        int fd = Config.FDim, td = Config.TDim, pf = Config.PatchF, pt = Config.PatchT;
        return image.reshape(b, fd, pf, td, pt).permute(0, 1, 3, 2, 4).reshape(b, fd * td, pf * pt);
    }

    /// <summary>The backbone's outputs at the masked patches [B, M, D], the masked patches' embeddings replaced by the mask embedding.</summary>
    private Tensor MaskedOutputs(Tensor image, Tensor mask)
    {
        var tokens = v.Encode(image, x =>
        {
            var masked = zeros(x.shape[0], x.shape[1], dtype: ScalarType.Bool, device: x.device).scatter_(1, mask, ones_like(mask, dtype: ScalarType.Bool));
            return where(masked.unsqueeze(-1), mask_embed.expand_as(x), x);
        });
        using var n = new ScalarScope();
        var positions = mask.Plus(n.Of(2L)); // past the cls and dist tokens
        return tokens.gather(1, positions.unsqueeze(-1).expand(-1, -1, tokens.shape[2]));
    }

    private static Tensor At(Tensor patches, Tensor mask) => patches.gather(1, mask.unsqueeze(-1).expand(-1, -1, patches.shape[2]));

    private (Tensor Accuracy, Tensor Nce) Discriminative(Tensor image, Tensor patches, Tensor mask)
    {
        long m = mask.shape[1];
        var target = At(patches, mask).detach();                           // the reference's encode_samples
        var prediction = cpredlayer.forward(MaskedOutputs(image, mask));   // [B, M, PatchF·PatchT]
        var total = target.bmm(prediction.transpose(1, 2));               // [B, M, M]: each masked patch against every prediction
        // correct: a prediction whose softmax-normalised score is highest at its own patch (argmax down each column)
        var expected = tensor(Enumerable.Range(0, (int)m).Select(i => (long)i).ToArray(), device: mask.device).unsqueeze(0); // (arange builds a Scalar)
        var correct = total.softmax(-1).argmax(1).eq(expected).sum(1).to_type(ScalarType.Float32); // [B]
        var diagonal = total.log_softmax(-1).diagonal(0, 1, 2).sum(1);                              // [B]
        using var n = new ScalarScope();
        return (correct.div(n.Of((double)m)), diagonal.div(n.Of(-1.0 * m)));
    }

    private Tensor Generative(Tensor image, Tensor patches, Tensor mask)
    {
        var prediction = gpredlayer.forward(MaskedOutputs(image, mask));
        return prediction.add(At(patches, mask).neg(), HeldScalars.One).Squared().mean([1, 2]); // [B] (add with the held alpha: sub builds a Scalar)
    }
}
