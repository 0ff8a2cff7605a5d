using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// Resizing a patch-embedding kernel [D, Cin, h, w] to a new patch shape (FlexiViT, Beyer et al. 2023).
/// With B the matrix of the bilinear resize x ↦ Bx from (h, w) to (newH, newW), PI-resize picks
/// ŵ = pinv(Bᵀ)·w so that ⟨ŵ, Bx⟩ = ⟨w, x⟩ for every patch x when enlarging (Bᵀ has full row rank), and the
/// least-squares best ŵ when shrinking.
/// </summary>
public static class PiResize
{
    public static Tensor Resize(Tensor kernel, int newH, int newW)
    {
        var (rows, h, w) = Check(kernel, newH, newW);
        if (h == newH && w == newW) return kernel.clone();
        using var scope = NewDisposeScope();
        var bt = ResizeMatrix(h, w, newH, newW).t();           // Bᵀ [h·w, newH·newW]
        var flat = kernel.detach().to(float64).reshape(rows, h * w);
        var resized = flat.matmul(linalg.pinv(bt).t());         // each row: pinv(Bᵀ)·w
        return resized.reshape(kernel.shape[0], kernel.shape[1], newH, newW).to(kernel.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Plain bilinear resize of the kernel (align_corners false, no antialias) — the weaker alternative.</summary>
    public static Tensor Bilinear(Tensor kernel, int newH, int newW)
    {
        Check(kernel, newH, newW);
        return nn.functional.interpolate(kernel.detach(), new long[] { newH, newW },
            mode: InterpolationMode.Bilinear, align_corners: false);
    }

    /// <summary>
    /// B [newH·newW, h·w] (float64): column i is the bilinear resize (torch interpolate, align_corners false,
    /// no antialias — the same as jax.image.resize bilinear without antialias) of the i-th basis patch.
    /// </summary>
    public static Tensor ResizeMatrix(int h, int w, int newH, int newW)
    {
        using var scope = NewDisposeScope();
        var basis = eye(h * w, dtype: float64).reshape(h * w, 1, h, w);
        var resized = nn.functional.interpolate(basis, new long[] { newH, newW },
            mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.reshape(h * w, newH * newW).t().contiguous().MoveToOuterDisposeScope();
    }

    private static (long Rows, int H, int W) Check(Tensor kernel, int newH, int newW)
    {
        if (kernel.dim() != 4)
            throw new ArgumentException($"kernel must be [D, Cin, h, w], got [{string.Join(", ", kernel.shape)}]", nameof(kernel));
        if (newH <= 0 || newW <= 0)
            throw new ArgumentOutOfRangeException(nameof(newH), $"new patch shape {newH}×{newW} must be positive");
        return (kernel.shape[0] * kernel.shape[1], (int)kernel.shape[2], (int)kernel.shape[3]);
    }
}
