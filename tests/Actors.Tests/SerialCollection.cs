namespace ActorTraining.Actors.Tests;

/// <summary>Tests that measure the process (peak memory) run alone, not beside other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial: measures the whole process";
}
