using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// The tensor operations whose plain TorchSharp overloads build a temporary Scalar inside TorchSharp and drop it
/// while libtorch still reads it (dotnet/TorchSharp#1434: <c>a + b</c> is <c>a.add(b, 1)</c>, <c>a.add(s)</c> is
/// <c>a.add(s, 1)</c>, <c>square()</c> is <c>pow(2)</c>, <c>arange(n)</c> is <c>arange(0, n, 1)</c>). Each is called here
/// through the overload that takes every Scalar explicitly, with Scalars this class holds for the process's lifetime
/// (a static field is a GC root, so they are never finalised). Hygiene/TorchSharpTemporariesTests reads the IL of
/// every assembly of ours and fails on any call to such a member outside this file's safe overloads.
/// </summary>
public static class HeldScalars
{
    /// <summary>1, for <c>alpha</c> / <c>step</c> arguments. Never disposed.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>0, for <c>start</c> arguments. Never disposed.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><c>a + s</c>, s held by the caller (e.g. in a <see cref="ScalarScope"/>).</summary>
    public static Tensor Plus(this Tensor a, Scalar s) => a.add(s, One);

    /// <summary><c>a * a</c>.</summary>
    public static Tensor Squared(this Tensor a) => a.mul(a);

    /// <summary><c>arange(count)</c>: 0, 1, …, count − 1, count held by the caller.</summary>
    public static Tensor Range(Scalar count, ScalarType dtype) => arange(Zero, count, One, dtype);
}
