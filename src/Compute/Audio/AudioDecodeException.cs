namespace ActorTraining.Compute.Audio;

/// <summary>A file that cannot be turned into audio samples. Message = "{FilePath}: {Reason}".</summary>
public sealed class AudioDecodeException : Exception
{
    public AudioDecodeException(string filePath, string reason, Exception? inner = null)
        : base($"{filePath}: {reason}", inner)
    {
        FilePath = filePath;
        Reason = reason;
    }

    public string FilePath { get; }
    public string Reason { get; }
}
