namespace ActorTraining.Actors;

/// <summary>
/// What a run directory is resumed against, as its journal stores it (<c>RunStarted.ConfigHash</c>):
/// the configuration's hash (ExperimentConfig.Hash) and the data's (CorpusFingerprint), written
/// <c>&lt;config&gt;/data:&lt;data&gt;</c>, so a refusal can say which of the two changed. Journals from before the
/// data fingerprint hold the configuration hash alone.
/// </summary>
public sealed record RunFingerprint(string Config, string? Data)
{
    const string DataMark = "/data:";

    public override string ToString() => Data is null ? Config : Config + DataMark + Data;

    public static RunFingerprint Parse(string stored)
    {
        int i = stored.IndexOf(DataMark, StringComparison.Ordinal);
        return i < 0 ? new RunFingerprint(stored, null) : new RunFingerprint(stored[..i], stored[(i + DataMark.Length)..]);
    }

    /// <summary>Twelve hex digits of the configuration hash, as `train` and `status` show it.</summary>
    public string Short => Config[..Math.Min(12, Config.Length)];
}
