namespace ActorTraining.Compute.Training;

/// <summary>
/// A step whose global loss or gradient norm is not finite: its update was not applied (weights and optimiser state as
/// before the step). Every rank of a group throws it at the same step, from the same all-reduced values.
/// </summary>
public sealed class NonFiniteStepException(string quantity, double value)
    : Exception($"the {quantity} is {(double.IsNaN(value) ? "NaN" : value > 0 ? "+inf" : "-inf")}; the update was not applied")
{
    /// <summary>"loss" or "gradient norm".</summary>
    public string Quantity { get; } = quantity;

    public double Value { get; } = value;
}
