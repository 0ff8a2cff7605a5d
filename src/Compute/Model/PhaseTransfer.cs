using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

public enum KernelResize { PiResize, Bilinear }

/// <summary>
/// Carries a model's weights from one phase's geometry to the next (C → C'): every weight is copied; for an AST the
/// patch-grid part of the positional embedding is interpolated bilinearly on the time axis only (cls/dist positions
/// kept); the patch kernel is resized (PI-resize by default) when the patch shape changes. An HTS-AT has no positional
/// embedding, and none of its weights depends on the input's length: only a patch phase's kernel changes.
/// Optimiser state and LR schedule are the caller's to reset.
/// </summary>
public static class PhaseTransfer
{
    public static T Transfer<T>(T source, ModelGeometry target, KernelResize kernelResize = KernelResize.PiResize) where T : AudioModel
    {
        var from = source.Geometry;
        RequireCompatible(from, target);
        var result = AudioModel.Create(target);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sourceState = source.state_dict();
        foreach (var (key, destination) in result.state_dict())
        {
            var value = key == source.PatchKernelKey ? ResizeKernel(sourceState[key], destination.shape, kernelResize)
                : key == "v.pos_embed" && from.Ast is { } fromAst ? InterpolatePosEmbed(sourceState[key], fromAst, target.Ast!)
                : sourceState[key];
            destination.copy_(value);
        }
        result.train(source.training);
        return (T)result;
    }

    static void RequireCompatible(ModelGeometry from, ModelGeometry to)
    {
        if (from.Architecture != to.Architecture || from.Pretext != to.Pretext)
            throw new ArgumentException($"phase transfer cannot change the model ({from.Name} → {to.Name})");
        if (from.Htsat is { } h)
        {
            if (to.Htsat! with { TargetLength = h.TargetLength, PatchT = h.PatchT } != h)
                throw new ArgumentException($"phase transfer cannot change {h} into {to.Htsat}; only the time geometry may change");
            return;
        }
        var a = from.Ast!;
        var b = to.Ast!;
        RequireSame(nameof(AstConfig.EmbedDim), a.EmbedDim, b.EmbedDim);
        RequireSame(nameof(AstConfig.Depth), a.Depth, b.Depth);
        RequireSame(nameof(AstConfig.Heads), a.Heads, b.Heads);
        RequireSame(nameof(AstConfig.NumClasses), a.NumClasses, b.NumClasses);
        RequireSame(nameof(AstConfig.FDim), a.FDim, b.FDim);
        RequireSame(nameof(AstConfig.PatchF), a.PatchF, b.PatchF);
        // SSAST's heads predict a patch's values: a patch phase would change what they predict
        if (from.Pretraining) RequireSame(nameof(AstConfig.PatchT), a.PatchT, b.PatchT);
    }

    public static Tensor InterpolatePosEmbed(Tensor posEmbed, AstConfig from, AstConfig to)
    {
        if (from.TDim == to.TDim && from.FDim == to.FDim) return posEmbed.clone();
        using var scope = NewDisposeScope();
        long dim = posEmbed.shape[2];
        var special = posEmbed[.., ..2];
        var grid = posEmbed[.., 2..].transpose(1, 2).reshape(1, dim, from.FDim, from.TDim);
        var resized = nn.functional.interpolate(grid, new long[] { to.FDim, to.TDim },
            mode: InterpolationMode.Bilinear, align_corners: false);
        var tokens = resized.reshape(1, dim, to.NumPatches).transpose(1, 2);
        return cat(new[] { special, tokens }, dim: 1).MoveToOuterDisposeScope();
    }

    private static Tensor ResizeKernel(Tensor kernel, long[] target, KernelResize kernelResize)
    {
        int height = (int)target[2], width = (int)target[3];
        if (kernel.shape[2] == height && kernel.shape[3] == width) return kernel;
        return kernelResize == KernelResize.PiResize ? PiResize.Resize(kernel, height, width) : PiResize.Bilinear(kernel, height, width);
    }

    private static void RequireSame(string name, int from, int to)
    {
        if (from != to)
            throw new ArgumentException($"phase transfer cannot change {name} ({from} → {to}); only the time geometry may change");
    }
}
