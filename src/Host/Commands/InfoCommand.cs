using System.CommandLine;
using ActorTraining.Compute.Runtime;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining info`: versions and whether the native torch backend loads on this machine.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show versions, cores and whether TorchSharp's native backend loads here");
        command.SetAction(_ =>
        {
            Console.WriteLine($"actortraining {typeof(InfoCommand).Assembly.GetName().Version}");
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            Console.WriteLine(TorchRuntime.Describe());
            Console.WriteLine($"devices: {string.Join(", ", RankDevice.Available())} (for training.devices)");
            return 0;
        });
        return command;
    }
}
