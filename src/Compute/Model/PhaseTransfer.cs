using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

public enum KernelResize { PiResize, Bilinear }

/// <summary>
/// Carries an AST's weights from one phase's geometry to the next (C → C'): every weight is copied; the
/// patch-grid part of the positional embedding is interpolated bilinearly on the time axis only (cls/dist
/// positions kept); the patch kernel is resized (PI-resize by default) when the patch shape changes.
/// Optimiser state and LR schedule are the caller's to reset.
/// </summary>
public static class PhaseTransfer
{
    public static AstModel Transfer(AstModel source, AstConfig target) => Transfer(source, target, KernelResize.PiResize);

    public static AstModel Transfer(AstModel source, AstConfig target, KernelResize kernelResize)
    {
        var from = source.Config;
        RequireSame(nameof(AstConfig.EmbedDim), from.EmbedDim, target.EmbedDim);
        RequireSame(nameof(AstConfig.Depth), from.Depth, target.Depth);
        RequireSame(nameof(AstConfig.Heads), from.Heads, target.Heads);
        RequireSame(nameof(AstConfig.NumClasses), from.NumClasses, target.NumClasses);
        RequireSame(nameof(AstConfig.FDim), from.FDim, target.FDim);
        RequireSame(nameof(AstConfig.PatchF), from.PatchF, target.PatchF);

        var result = new AstModel(target);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sourceState = source.state_dict();
        foreach (var (key, destination) in result.state_dict())
        {
            var value = key switch
            {
                "v.pos_embed" => InterpolatePosEmbed(sourceState[key], from, target),
                "v.patch_embed.proj.weight" => ResizeKernel(sourceState[key], target, kernelResize),
                _ => sourceState[key],
            };
            destination.copy_(value);
        }
        result.train(source.training);
        return result;
    }

    /// <summary>[1, 2 + f·t, D] → [1, 2 + f·t', D]: grid as [1, D, f, t], bilinear on time only.</summary>
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

    private static Tensor ResizeKernel(Tensor kernel, AstConfig target, KernelResize kernelResize)
    {
        if (kernel.shape[2] == target.PatchF && kernel.shape[3] == target.PatchT) return kernel;
        return kernelResize == KernelResize.PiResize
            ? PiResize.Resize(kernel, target.PatchF, target.PatchT)
            : PiResize.Bilinear(kernel, target.PatchF, target.PatchT);
    }

    private static void RequireSame(string name, int from, int to)
    {
        if (from != to)
            throw new ArgumentException($"phase transfer cannot change {name} ({from} → {to}); only the time geometry may change");
    }
}
