using TorchSharp;

namespace ActorTraining.Compute.Runtime;

/// <summary>
/// Numbers for tensor operations, as TorchSharp Scalars this scope keeps alive until it is disposed. TorchSharp 0.107
/// turns a bare number (<c>x * 0.5</c>) into a Scalar nothing references once its handle is passed to libtorch, so
/// the garbage collector may free it mid-call (dotnet/TorchSharp#1434): seen here as "Unknown scalar type" from a
/// spectrogram worker. Compute therefore never converts implicitly (Compute.Tests/Hygiene/ImplicitScalarTests reads its IL to hold that).
/// </summary>
public sealed class ScalarScope : IDisposable
{
    private readonly List<Scalar> _scalars = [];

    public Scalar Of(double value) => Keep(value.ToScalar());

    public Scalar Of(long value) => Keep(value.ToScalar());

    private Scalar Keep(Scalar scalar)
    {
        _scalars.Add(scalar);
        return scalar;
    }

    public void Dispose()
    {
        foreach (var scalar in _scalars) scalar.Dispose();
        _scalars.Clear();
    }
}
