namespace ActorTraining.Actors;

/// <summary>
/// A run directory's identity in the journal: a random id written to <see cref="FileName"/> by the first `train`.
/// Persistence ids carry it, so run directories that share one journal database (PostgreSQL) never read or append
/// to each other's events. Kept in a file rather than derived from the path so a moved run directory still resumes.
/// </summary>
public static class RunIdentity
{
    public const string FileName = "run-id";

    /// <summary>The directory's id, or null when no `train` has started there.</summary>
    public static string? Read(string runDirectory)
    {
        var file = Path.Combine(runDirectory, FileName);
        if (!File.Exists(file)) return null;
        var id = File.ReadAllText(file).Trim();
        if (id.Length == 0 || !id.All(char.IsAsciiLetterOrDigit))
            throw new InvalidDataException($"{file}: not a run id (expected letters and digits, found \"{Printable(id)}\")");
        return id;
    }

    public static string ReadOrCreate(string runDirectory)
    {
        if (Read(runDirectory) is { } id) return id;
        // A journal without an id file was written under the older ids (phase-supervisor-r<k>): a new id would silently
        // start the run over on top of its checkpoints.
        if (File.Exists(Path.Combine(runDirectory, PersistenceConfig.JournalFile)))
            throw new InvalidDataException($"{runDirectory}: its {PersistenceConfig.JournalFile} has no {FileName} file beside it (made before run ids); use a new --run-dir");
        id = Guid.NewGuid().ToString("N");
        var file = Path.Combine(runDirectory, FileName);
        var temp = $"{file}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, id + "\n");
        try { File.Move(temp, file, overwrite: false); } // a kill mid-write never leaves a half id behind
        catch (IOException) when (File.Exists(file))
        {
            File.Delete(temp); // another node of the cluster named the run first: its id it is
            return Read(runDirectory)!;
        }
        return id;
    }

    /// <summary>At most 40 characters of what a damaged file holds, control and non-ASCII characters as '?'.</summary>
    static string Printable(string text) =>
        new string(text.Take(40).Select(c => char.IsAsciiLetterOrDigit(c) || char.IsAsciiHexDigit(c) || c is ' ' or '-' or '_' or '.' ? c : '?').ToArray())
        + (text.Length > 40 ? "…" : "");
}
