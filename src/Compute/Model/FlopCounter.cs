namespace ActorTraining.Compute.Model;

/// <summary>
/// Analytic FLOPs per sample. Convention: one multiply-add = 2 FLOPs; counted are the patch-embedding conv,
/// the qkv/proj/fc1/fc2 matmuls, attention scores QKᵀ and the weighted sum AV, and the classifier Linear.
/// Not counted (each O(N·D), &lt; 1 % for AST sizes): biases, LayerNorms, GELU, softmax, positional add.
/// Backward = 2 × forward (gradients w.r.t. activations and weights each cost about one forward).
/// Per block with N tokens and width D: 24·N·D² (qkv 6, proj 2, MLP 16) + 4·N²·D (QKᵀ 2, AV 2) — for HTS-AT's window
/// attention 4·N·w²·D, each token attending to the w² of its window; a patch merging 4·N·D² (Linear 4D → 2D on N/4 tokens).
/// SSAST pretraining runs the encoder twice (the discriminative and the generative pass, as the reference), then on the M
/// masked tokens each head's two Linears 2·M·(D² + D·P) (P values per patch) and the InfoNCE scores 2·M²·P.
/// </summary>
public static class FlopCounter
{
    public static (double Forward, double Backward) PerSample(ModelGeometry geometry) =>
        geometry switch
        {
            { Htsat: { } htsat } => PerSample(htsat),
            { Pretext: { } pretext } => PerSample(geometry.Ast!, pretext),
            _ => PerSample(geometry.Ast!),
        };

    public static (double Forward, double Backward) PerSample(HtsatConfig config)
    {
        double forward = 2.0 * config.NumPatches * config.EmbedDim * config.PatchSize * config.PatchT;
        for (int s = 0; s < config.Stages; s++)
        {
            var (h, w) = config.ResolutionOf(s);
            double n = (double)h * w, d = config.DimOf(s), window = config.WindowOf(s).Window;
            forward += config.StageDepths[s] * (24 * n * d * d + 4 * n * window * window * d);
            if (s < config.Stages - 1) forward += 4 * n * d * d;
        }
        var (lastH, lastW) = config.ResolutionOf(config.Stages - 1);
        double columns = (double)config.FreqRatio * lastW;
        forward += 2 * columns * config.NumFeatures * config.HeadKernelHeight * 3 * config.NumClasses;
        return (forward, 2 * forward);
    }

    public static (double Forward, double Backward) PerSample(AstConfig config)
    {
        double forward = Encoder(config) + 2 * config.EmbedDim * config.NumClasses;
        return (forward, 2 * forward);
    }

    public static (double Forward, double Backward) PerSample(AstConfig config, SsastPretext pretext)
    {
        double d = config.EmbedDim, m = pretext.MaskCount(config), p = config.PatchF * config.PatchT;
        double forward = 2 * Encoder(config) + 2 * (2 * m * (d * d + d * p)) + 2 * m * m * p;
        return (forward, 2 * forward);
    }

    static double Encoder(AstConfig config)
    {
        double d = config.EmbedDim, n = config.NumTokens, patches = config.NumPatches;
        double patchEmbed = 2 * patches * d * config.PatchF * config.PatchT;
        double perBlock = 24 * n * d * d + 4 * n * n * d;
        return patchEmbed + config.Depth * perBlock;
    }
}
