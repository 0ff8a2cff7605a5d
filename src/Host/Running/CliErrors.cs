using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Data;
using ActorTraining.Compute.Training;

namespace ActorTraining.Host.Running;

/// <summary>Errors that are the user's to fix: shown as one clear line, no stack trace.</summary>
public static class CliErrors
{
    public static bool IsUserError(Exception e) => e is ConfigException or DatasetException or AudioDecodeException
        or CheckpointCorruptException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
        or Actors.RunConfigMismatchException or Actors.JournalUnavailableException;
}
