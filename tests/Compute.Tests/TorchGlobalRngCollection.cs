namespace ActorTraining.Compute.Tests;

/// <summary>
/// Tests that seed torch's process-wide generator (torch.manual_seed) and depend on the numbers drawn after it.
/// xUnit runs other test classes in parallel, and any of them drawing random numbers would shift this
/// sequence; this collection runs on its own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalRngCollection
{
    public const string Name = "torch global RNG";
}
