using System.CommandLine;
using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;

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
            try { Console.WriteLine(SlurmStep.OfThisProcess()?.Describe(SlurmStep.DefaultPortBase) ?? "slurm: not a task of srun (no SLURM_STEP_NODELIST)"); }
            catch (ConfigException e) { Console.WriteLine($"slurm: {e.Message}"); }
            return 0;
        });
        return command;
    }
}
